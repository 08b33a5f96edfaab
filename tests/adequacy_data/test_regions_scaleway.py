"""Data checks for adequacy_data/regions/scaleway.yaml (Scaleway)."""

import pytest

from . import region_checks as rc

PROVIDER = "scaleway"
REGIONS = 4  # pinned: change only together with the file (and say why in its header)
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
        pytest.param("nl-ams", dict(city="Amsterdam", country="NL"), id="nl-ams"),
        pytest.param("fr-par", dict(city="Paris", country="FR"), id="fr-par"),
        pytest.param("pl-waw", dict(city="Warsaw", country="PL"), id="pl-waw"),
    ],
)
def test_spot_check(data, region_id, expected):
    rc.check_region(data, region_id, **expected)
