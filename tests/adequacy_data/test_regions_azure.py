"""Data checks for adequacy_data/regions/azure.yaml (Microsoft Azure)."""

from .region_checks import (  # noqa: F401 - collected in this module
    data,
    pytest_generate_tests,
    test_common,
    test_counts,
    test_kept_unconfirmed,
    test_spot_check,
)

PROVIDER = "azure"
REGIONS = 78  # pinned: change only together with the file
UNCONFIRMED = 0
SPOTS = {
    "westeurope": {"country": "NL", "partition": "commercial"},
    "northeurope": {"country": "IE", "partition": "commercial"},
    "germanycentral": {"country": "DE", "partition": "sovereign", "retired": "2021-10-29"},
    "usgoviowa": {"country": "US", "partition": "government", "retired": None},
}
KEPT_UNCONFIRMED = []
