"""Data checks for adequacy_data/regions/scaleway.yaml (Scaleway)."""

from .region_checks import *  # noqa: F403 - the shared tests, collected in this module

PROVIDER = "scaleway"
REGIONS = 4  # pinned: change only together with the file
UNCONFIRMED = 0
SPOTS = {
    "nl-ams": {"city": "Amsterdam", "country": "NL"},
    "fr-par": {"city": "Paris", "country": "FR"},
    "pl-waw": {"city": "Warsaw", "country": "PL"},
}
KEPT_UNCONFIRMED = []
