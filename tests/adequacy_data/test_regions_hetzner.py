"""Data checks for adequacy_data/regions/hetzner.yaml (Hetzner Cloud)."""

import pytest

from . import region_checks as rc

PROVIDER = "hetzner"
REGIONS = 6  # pinned: change only together with the file (and say why in its header)
UNCONFIRMED = 0


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
        pytest.param("fsn1", dict(city="Falkenstein", country="DE"), id="fsn1"),
        pytest.param("hel1", dict(city="Helsinki", country="FI"), id="hel1"),
        pytest.param("ash", dict(city="Ashburn", country="US"), id="ash"),
    ],
)
def test_spot_check(data, region_id, expected):
    rc.check_region(data, region_id, **expected)
