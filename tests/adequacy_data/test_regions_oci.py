"""Data checks for adequacy_data/regions/oci.yaml (Oracle Cloud Infrastructure)."""

from .region_checks import *  # noqa: F403 - the shared tests, collected in this module

PROVIDER = "oci"
REGIONS = 91  # pinned: change only together with the file
UNCONFIRMED = 8
SPOTS = {
    "eu-amsterdam-1": {"city": "Amsterdam", "country": "NL", "partition": "commercial"},
    "eu-frankfurt-2": {"city": "Frankfurt", "country": "DE", "partition": "sovereign"},
    "eu-crissier-1": {"country": "CH", "country_inferred": True, "partition": "dedicated"},
    "eu-jovanovac-1": {"country": "RS", "partition": "commercial"},
}
KEPT_UNCONFIRMED = ["eu-dcc-rating-1", "us-somerset-1"]
