"""Data checks for adequacy_data/regions/azure.yaml (Microsoft Azure)."""

from .region_checks import *  # noqa: F403 - the shared tests, collected in this module

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
