"""Data checks for adequacy_data/regions/hetzner.yaml (Hetzner Cloud)."""

from .region_checks import *  # noqa: F403 - the shared tests, collected in this module

PROVIDER = "hetzner"
REGIONS = 6  # pinned: change only together with the file
UNCONFIRMED = 0
SPOTS = {
    "fsn1": {"city": "Falkenstein", "country": "DE"},
    "hel1": {"city": "Helsinki", "country": "FI"},
    "ash": {"city": "Ashburn", "country": "US"},
}
KEPT_UNCONFIRMED = []
