"""Data checks for adequacy_data/regions/ovhcloud.yaml (OVHcloud)."""

import pytest

from . import region_checks as rc

PROVIDER = "ovhcloud"
REGIONS = 20  # pinned: change only together with the file (and say why in its header)
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
        pytest.param("EU-WEST-PAR", dict(city="Paris", country="FR"), id="EU-WEST-PAR"),
        pytest.param("SGP1", dict(city="Singapore", country="SG"), id="SGP1"),
        pytest.param("GRA11", dict(city="Gravelines", country="FR"), id="GRA11"),
        pytest.param("BHS5", dict(city="Beauharnois", country="CA"), id="BHS5"),
    ],
)
def test_spot_check(data, region_id, expected):
    rc.check_region(data, region_id, **expected)


@pytest.mark.parametrize("region_id", ["EU-WEST-LZ-LUX-A"])
def test_kept_unconfirmed(data, region_id):
    rc.check_unconfirmed_only(data, region_id)
