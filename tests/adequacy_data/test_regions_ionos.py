"""Data checks for adequacy_data/regions/ionos.yaml (IONOS Cloud)."""

import pytest

from . import region_checks as rc

PROVIDER = "ionos"
REGIONS = 10  # pinned: change only together with the file (and say why in its header)
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
        pytest.param("de/fra", dict(city="Frankfurt", country="DE"), id="de/fra"),
        pytest.param("es/vit", dict(city="Logroño", country="ES"), id="es/vit"),
        pytest.param("us/mci", dict(city=None, country="US"), id="us/mci"),
    ],
)
def test_spot_check(data, region_id, expected):
    rc.check_region(data, region_id, **expected)
