"""Checks shared by the tests of adequacy_data/regions/<provider>.yaml.

Depends only on pyyaml and pycountry (and pytest for the tests that use it), not on
the engine, so a broken data file is reported here even when the engine cannot load.
Each check raises AssertionError naming the file and the row at fault.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pycountry
import pytest
import yaml

from tests.conftest import TODAY

#: what a provider's test module imports: the fixture, the hook and the shared tests
__all__ = [
    "ANY",
    "data",
    "pytest_generate_tests",
    "test_common",
    "test_counts",
    "test_kept_unconfirmed",
    "test_spot_check",
]

REGIONS_DIR = Path(__file__).resolve().parents[2] / "adequacy_data" / "regions"

PROVIDERS = {"aws", "azure", "gcp", "oci", "hetzner", "scaleway", "ionos", "ovhcloud"}
PARTITIONS = {"commercial", "government", "china", "sovereign", "restricted", "dedicated"}
FILE_KEYS = {"provider", "name", "last_reviewed", "sources", "regions", "unconfirmed"}
SOURCE_KEYS = {"title", "url", "read_on"}
REGION_KEYS = {
    "id",
    "name",
    "city",
    "country",
    "partition",
    "launched",
    "retired",
    "country_inferred",
    "note",
    "sources",
}
UNCONFIRMED_KEYS = {"id", "name", "reason", "sources"}
MAX_REVIEW_AGE_DAYS = 365
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

ANY = object()  # spot checks: "do not check this field"


def load(provider: str) -> dict[str, Any]:
    path = REGIONS_DIR / f"{provider}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: top level is not a mapping"
    return data


def as_date(value: Any, where: str) -> dt.date:
    """A YAML date (or an ISO YYYY-MM-DD string) as a date; anything else fails."""
    if isinstance(value, dt.datetime):
        raise AssertionError(f"{where}: {value!r} is a timestamp, not a date")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise AssertionError(f"{where}: {value!r} is not a YYYY-MM-DD date")


def _text(value: Any, where: str, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    assert isinstance(value, str) and value.strip(), f"{where}: expected non-empty text, got {value!r}"


def _rows(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows = data.get(key)
    assert isinstance(rows, list), f"{key}: expected a list, got {type(rows).__name__}"
    for i, row in enumerate(rows):
        assert isinstance(row, dict), f"{key}[{i}]: expected a mapping"
    return rows


# ----------------------------------------------------------------- common checks


def check_file_keys(data: dict[str, Any], provider: str) -> None:
    assert set(data) == FILE_KEYS, (
        f"file keys: extra {set(data) - FILE_KEYS}, missing {FILE_KEYS - set(data)}"
    )
    assert data["provider"] in PROVIDERS, f"unknown provider {data['provider']!r}"
    assert data["provider"] == provider, f"provider {data['provider']!r} is in {provider}.yaml"
    _text(data["name"], "name")


def check_last_reviewed(data: dict[str, Any], provider: str) -> None:
    """Not in the future (today), and within a year of the suite's fixed date, so that the test
    never goes red because a day passed (`doorgifte check` counts to today)."""
    reviewed = as_date(data["last_reviewed"], "last_reviewed")
    assert reviewed <= dt.date.today(), f"last_reviewed {reviewed} is in the future"
    age = (TODAY - reviewed).days
    assert age <= MAX_REVIEW_AGE_DAYS, (
        f"last_reviewed {reviewed} is {age} days old (max {MAX_REVIEW_AGE_DAYS})"
    )


def check_sources(data: dict[str, Any], provider: str) -> None:
    sources = data["sources"]
    assert isinstance(sources, dict) and sources, "sources: expected a non-empty mapping"
    today = dt.date.today()
    for key, src in sources.items():
        where = f"sources.{key}"
        assert isinstance(src, dict), f"{where}: expected a mapping"
        assert set(src) == SOURCE_KEYS, (
            f"{where}: extra {set(src) - SOURCE_KEYS}, missing {SOURCE_KEYS - set(src)}"
        )
        _text(src["title"], f"{where}.title")
        url = src["url"]
        assert isinstance(url, str) and re.match(r"^https?://[^\s/]+\.[^\s/]+/\S*$", url), (
            f"{where}.url: {url!r}"
        )
        read_on = as_date(src["read_on"], f"{where}.read_on")
        assert read_on <= today, f"{where}.read_on {read_on} is in the future"


def check_regions(data: dict[str, Any], provider: str) -> None:
    keys = set(data["sources"])
    for i, r in enumerate(_rows(data, "regions")):
        where = f"regions[{i}] ({r.get('id')!r})"
        assert set(r) == REGION_KEYS, f"{where}: extra {set(r) - REGION_KEYS}, missing {REGION_KEYS - set(r)}"
        _text(r["id"], f"{where}.id")
        _text(r["name"], f"{where}.name")
        _text(r["city"], f"{where}.city", nullable=True)
        country = r["country"]
        assert isinstance(country, str), f"{where}.country: {country!r} is not a string (quote it)"
        assert re.match(r"^[A-Z]{2}$", country), f"{where}.country: {country!r} is not two capital letters"
        assert pycountry.countries.get(alpha_2=country) is not None, (
            f"{where}.country: {country!r} is not ISO 3166-1"
        )
        assert r["partition"] in PARTITIONS, f"{where}.partition: {r['partition']!r}"
        launched = None if r["launched"] is None else as_date(r["launched"], f"{where}.launched")
        retired = None if r["retired"] is None else as_date(r["retired"], f"{where}.retired")
        if launched and retired:
            assert launched <= retired, f"{where}: retired {retired} before launched {launched}"
        assert isinstance(r["country_inferred"], bool), f"{where}.country_inferred: {r['country_inferred']!r}"
        _text(r["note"], f"{where}.note", nullable=True)
        srcs = r["sources"]
        assert isinstance(srcs, list) and srcs, f"{where}.sources: expected a non-empty list"
        unknown = [s for s in srcs if s not in keys]
        assert not unknown, f"{where}.sources: {unknown} not in `sources`"


def check_unconfirmed(data: dict[str, Any], provider: str) -> None:
    keys = set(data["sources"])
    for i, u in enumerate(_rows(data, "unconfirmed")):
        where = f"unconfirmed[{i}] ({u.get('id')!r})"
        assert set(u) == UNCONFIRMED_KEYS, (
            f"{where}: extra {set(u) - UNCONFIRMED_KEYS}, missing {UNCONFIRMED_KEYS - set(u)}"
        )
        _text(u["id"], f"{where}.id")
        _text(u["name"], f"{where}.name", nullable=True)
        _text(u["reason"], f"{where}.reason")
        srcs = u["sources"]
        assert isinstance(srcs, list) and srcs, f"{where}.sources: expected a non-empty list"
        unknown = [s for s in srcs if s not in keys]
        assert not unknown, f"{where}.sources: {unknown} not in `sources`"


def check_unique_ids(data: dict[str, Any], provider: str) -> None:
    ids = [r.get("id") for r in _rows(data, "regions")] + [u.get("id") for u in _rows(data, "unconfirmed")]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    assert not dupes, f"ids listed more than once (regions and unconfirmed together): {dupes}"


def check_every_source_used(data: dict[str, Any], provider: str) -> None:
    used = {s for row in _rows(data, "regions") + _rows(data, "unconfirmed") for s in row.get("sources", [])}
    unused = sorted(set(data["sources"]) - used)
    assert not unused, f"sources never cited by a row: {unused}"


COMMON_CHECKS = [
    check_file_keys,
    check_last_reviewed,
    check_sources,
    check_regions,
    check_unconfirmed,
    check_unique_ids,
    check_every_source_used,
]


# ----------------------------------------------------------------- per-file checks


def check_counts(data: dict[str, Any], *, regions: int, unconfirmed: int) -> None:
    got = (len(_rows(data, "regions")), len(_rows(data, "unconfirmed")))
    assert got == (regions, unconfirmed), f"(regions, unconfirmed) = {got}, pinned {(regions, unconfirmed)}"


def region(data: dict[str, Any], region_id: str) -> dict[str, Any]:
    found = [r for r in _rows(data, "regions") if r.get("id") == region_id]
    assert len(found) == 1, f"region {region_id!r} found {len(found)} times in `regions`"
    return found[0]


def check_region(data: dict[str, Any], region_id: str, **expected: Any) -> None:
    """Spot check: the region exists and each given field has the given value (ANY skips)."""
    r = region(data, region_id)
    for field, want in expected.items():
        assert field in REGION_KEYS, f"spot check asks for unknown field {field!r}"
        if want is ANY:
            continue
        got = r[field]
        if field in ("launched", "retired") and got is not None:
            got = as_date(got, f"{region_id}.{field}").isoformat()
        assert got == want, f"{region_id}.{field} = {got!r}, expected {want!r}"


def check_unconfirmed_only(data: dict[str, Any], region_id: str) -> None:
    """The id is kept under `unconfirmed` and has no country row in `regions`."""
    assert any(u.get("id") == region_id for u in _rows(data, "unconfirmed")), (
        f"{region_id!r} not in `unconfirmed`"
    )
    assert all(r.get("id") != region_id for r in _rows(data, "regions")), (
        f"{region_id!r} is also in `regions`"
    )


# ----------------------------------------------------------------- the tests of each provider file
# A provider's test module sets PROVIDER, REGIONS, UNCONFIRMED, SPOTS and KEPT_UNCONFIRMED
# and imports the fixture, the hook and the tests below, so pytest collects them there.


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module
    if "check" in metafunc.fixturenames:
        metafunc.parametrize("check", COMMON_CHECKS, ids=lambda c: c.__name__)
    if "spot" in metafunc.fixturenames:
        metafunc.parametrize("spot", list(module.SPOTS.items()), ids=list(module.SPOTS))
    if "kept" in metafunc.fixturenames:
        kept = module.KEPT_UNCONFIRMED
        metafunc.parametrize("kept", kept or [None], ids=kept or ["nothing-unconfirmed"])


@pytest.fixture(scope="module")
def data(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.module.PROVIDER)


def test_common(data: dict[str, Any], check: Any, request: pytest.FixtureRequest) -> None:
    check(data, request.module.PROVIDER)


def test_counts(data: dict[str, Any], request: pytest.FixtureRequest) -> None:
    """Pinned: change only together with the file (and say why in its header)."""
    check_counts(data, regions=request.module.REGIONS, unconfirmed=request.module.UNCONFIRMED)


def test_spot_check(data: dict[str, Any], spot: tuple[str, dict[str, Any]]) -> None:
    region_id, expected = spot
    check_region(data, region_id, **expected)


def test_kept_unconfirmed(data: dict[str, Any], kept: str | None) -> None:
    if kept is None:
        assert _rows(data, "unconfirmed") == []
    else:
        check_unconfirmed_only(data, kept)
