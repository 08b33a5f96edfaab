"""Data checks for adequacy_data/regions/aws.yaml (Amazon Web Services)."""

from .region_checks import *  # noqa: F403 - the shared tests, collected in this module

PROVIDER = "aws"
REGIONS = 45  # pinned: change only together with the file
UNCONFIRMED = 1
SPOTS = {
    "eu-central-1": {"city": "Frankfurt", "country": "DE", "partition": "commercial"},
    "us-east-1": {"country": "US", "partition": "commercial"},
    "eu-west-1": {"city": None, "country": "IE"},
    "eusc-de-east-1": {"country": "DE", "partition": "sovereign", "launched": "2026-01-15"},
}
KEPT_UNCONFIRMED = ["eu-isoe-west-1"]
