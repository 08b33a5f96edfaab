"""Data checks for adequacy_data/regions/ovhcloud.yaml (OVHcloud)."""

from .region_checks import *  # noqa: F403 - the shared tests, collected in this module

PROVIDER = "ovhcloud"
REGIONS = 20  # pinned: change only together with the file
UNCONFIRMED = 1
SPOTS = {
    "EU-WEST-PAR": {"city": "Paris", "country": "FR"},
    "SGP1": {"city": "Singapore", "country": "SG"},
    "GRA11": {"city": "Gravelines", "country": "FR"},
    "BHS5": {"city": "Beauharnois", "country": "CA"},
}
KEPT_UNCONFIRMED = ["EU-WEST-LZ-LUX-A"]
