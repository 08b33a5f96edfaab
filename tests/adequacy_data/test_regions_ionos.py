"""Data checks for adequacy_data/regions/ionos.yaml (IONOS Cloud)."""

from .region_checks import *  # noqa: F403 - the shared tests, collected in this module

PROVIDER = "ionos"
REGIONS = 10  # pinned: change only together with the file
UNCONFIRMED = 0
SPOTS = {
    "de/fra": {"city": "Frankfurt", "country": "DE"},
    "es/vit": {"city": "Logroño", "country": "ES"},
    "us/mci": {"city": None, "country": "US"},
}
KEPT_UNCONFIRMED = []
