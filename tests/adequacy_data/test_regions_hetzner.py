"""Data checks for adequacy_data/regions/hetzner.yaml (Hetzner Cloud)."""

from .region_checks import (  # noqa: F401 - collected in this module
    data,
    pytest_generate_tests,
    test_common,
    test_counts,
    test_kept_unconfirmed,
    test_spot_check,
)

PROVIDER = "hetzner"
REGIONS = 6  # pinned: change only together with the file
UNCONFIRMED = 0
SPOTS = {
    "fsn1": {"city": "Falkenstein", "country": "DE"},
    "hel1": {"city": "Helsinki", "country": "FI"},
    "ash": {"city": "Ashburn", "country": "US"},
}
KEPT_UNCONFIRMED = []
