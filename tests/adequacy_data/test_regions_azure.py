"""Data checks for adequacy_data/regions/azure.yaml (Microsoft Azure)."""

import pytest

from . import region_checks as rc

PROVIDER = "azure"
REGIONS = 78  # pinned: change only together with the file (and say why in its header)
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
        pytest.param("westeurope", dict(country="NL", partition="commercial"), id="westeurope"),
        pytest.param("northeurope", dict(country="IE", partition="commercial"), id="northeurope"),
        pytest.param(
            "germanycentral",
            dict(country="DE", partition="sovereign", retired="2021-10-29"),
            id="germanycentral",
        ),
        pytest.param("usgoviowa", dict(country="US", partition="government", retired=None), id="usgoviowa"),
    ],
)
def test_spot_check(data, region_id, expected):
    rc.check_region(data, region_id, **expected)
