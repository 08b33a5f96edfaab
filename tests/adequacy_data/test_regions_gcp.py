"""Data checks for adequacy_data/regions/gcp.yaml (Google Cloud)."""

from .region_checks import *  # noqa: F403 - the shared tests, collected in this module

PROVIDER = "gcp"
REGIONS = 43  # pinned: change only together with the file
UNCONFIRMED = 2
SPOTS = {
    "europe-west4": {"city": "Eemshaven", "country": "NL"},
    "europe-west1": {"city": "St. Ghislain", "country": "BE"},
    "us-west3": {"city": "Salt Lake City", "country": "US"},
    "europe-north2": {"city": "Stockholm", "country": "SE"},
}
KEPT_UNCONFIRMED = ["us-central2", "us-east2"]
