"""Data checks for adequacy_data/regions/oci.yaml (Oracle Cloud Infrastructure)."""

import pytest

from . import region_checks as rc

PROVIDER = "oci"
REGIONS = 91  # pinned: change only together with the file (and say why in its header)
UNCONFIRMED = 8


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
        pytest.param(
            "eu-amsterdam-1",
            dict(city="Amsterdam", country="NL", partition="commercial"),
            id="eu-amsterdam-1",
        ),
        pytest.param(
            "eu-frankfurt-2", dict(city="Frankfurt", country="DE", partition="sovereign"), id="eu-frankfurt-2"
        ),
        pytest.param(
            "eu-crissier-1",
            dict(country="CH", country_inferred=True, partition="dedicated"),
            id="eu-crissier-1",
        ),
        pytest.param("eu-jovanovac-1", dict(country="RS", partition="commercial"), id="eu-jovanovac-1"),
    ],
)
def test_spot_check(data, region_id, expected):
    rc.check_region(data, region_id, **expected)


@pytest.mark.parametrize("region_id", ["eu-dcc-rating-1", "us-somerset-1"])
def test_kept_unconfirmed(data, region_id):
    rc.check_unconfirmed_only(data, region_id)
