"""Data checks for adequacy_data/regions/aws.yaml (Amazon Web Services)."""

import pytest

from . import region_checks as rc

PROVIDER = "aws"
REGIONS = 45  # pinned: change only together with the file (and say why in its header)
UNCONFIRMED = 1


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
            "eu-central-1", dict(city="Frankfurt", country="DE", partition="commercial"), id="eu-central-1"
        ),
        pytest.param("us-east-1", dict(country="US", partition="commercial"), id="us-east-1"),
        pytest.param("eu-west-1", dict(city=None, country="IE"), id="eu-west-1"),
        pytest.param(
            "eusc-de-east-1",
            dict(country="DE", partition="sovereign", launched="2026-01-15"),
            id="eusc-de-east-1",
        ),
    ],
)
def test_spot_check(data, region_id, expected):
    rc.check_region(data, region_id, **expected)


@pytest.mark.parametrize("region_id", ["eu-isoe-west-1"])
def test_kept_unconfirmed(data, region_id):
    rc.check_unconfirmed_only(data, region_id)
