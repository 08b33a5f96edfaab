"""Data checks for adequacy_data/regions/gcp.yaml (Google Cloud)."""

import pytest

from . import region_checks as rc

PROVIDER = "gcp"
REGIONS = 43  # pinned: change only together with the file (and say why in its header)
UNCONFIRMED = 2


@pytest.fixture(scope="module")
def data():
    return rc.load(PROVIDER)


@pytest.mark.parametrize("check", rc.COMMON_CHECKS, ids=lambda c: c.__name__)
def test_common(data, check):
    check(data, PROVIDER)


def test_counts(data):
    rc.check_counts(data, regions=REGIONS, unconfirmed=UNCONFIRMED)


@pytest.mark.parametrize(
    ("region_id", "expected"),
    [
        pytest.param("europe-west4", dict(city="Eemshaven", country="NL"), id="europe-west4"),
        pytest.param("europe-west1", dict(city="St. Ghislain", country="BE"), id="europe-west1"),
        pytest.param("us-west3", dict(city="Salt Lake City", country="US"), id="us-west3"),
        pytest.param("europe-north2", dict(city="Stockholm", country="SE"), id="europe-north2"),
    ],
)
def test_spot_check(data, region_id, expected):
    rc.check_region(data, region_id, **expected)


@pytest.mark.parametrize("region_id", ["us-central2", "us-east2"])
def test_kept_unconfirmed(data, region_id):
    rc.check_unconfirmed_only(data, region_id)
