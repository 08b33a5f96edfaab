"""Reference data: pinned counts, sources, review dates and as-of answers on the edges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from engine.reference import load_reference
from tests.conftest import REVIEWED_ON

D = dt.date
DATA = Path(__file__).resolve().parents[2] / "adequacy_data"


@pytest.fixture(scope="module")
def ref(engine):
    return engine.reference


def test_pinned_counts(ref):
    assert len(ref.eea.members) == 39  # EU-27 + IS, LI, NO + GB, GI (to 2020) + 7 Art. 355 territories
    assert len(ref.eea.outside) == 13
    assert len(ref.eea.bridges) == 1
    assert len(ref.adequacy.decisions) == 21
    assert len(ref.instruments.scc_sets) == 4
    assert len(ref.instruments.derogations) == 8


def test_every_record_is_sourced_and_reviewed_within_a_year(ref):
    """On the suite's fixed date (a test never goes red because a day passed); `doorgifte check`
    names the facts not reviewed within a year of today."""
    for d in ref.adequacy.decisions:
        assert d.source.startswith("https://"), d.id
    assert ref.unreviewed(REVIEWED_ON) == []
    stale = ref.unreviewed(REVIEWED_ON + dt.timedelta(days=400))
    assert "eea: last reviewed" in stale[0] and any(s.startswith("adequacy decision ") for s in stale)
    assert any(s.startswith("regions of ") for s in stale) and any(s.startswith("clauses ") for s in stale)
    assert any(s.startswith("terms of ") for s in stale)
    early = ref.unreviewed(dt.date(2019, 1, 1))  # reviewed after the date checked: named too
    assert early and all("after the date checked" in s for s in early)


@pytest.mark.parametrize(
    ("country", "on", "zone", "transfer"),
    [
        ("DE", D(2018, 5, 25), "eea", False),
        ("NO", D(2018, 5, 25), "eea", False),
        ("GB", D(2020, 12, 31), "eea", False),
        ("GB", D(2021, 1, 1), "adequate", False),
        ("GB", D(2021, 6, 27), "adequate", False),
        ("GB", D(2021, 6, 28), "adequate", True),
        ("GB", D(2025, 12, 27), "adequate", True),
        ("GB", D(2025, 12, 28), "adequate", True),
        ("GB", D(2031, 12, 28), "third_country", True),
        ("GI", D(2020, 12, 31), "eea", False),
        ("GI", D(2021, 3, 1), "third_country", True),
        ("US", D(2019, 1, 1), "adequate_partial", True),
        ("US", D(2020, 7, 15), "adequate_partial", True),
        ("US", D(2020, 7, 16), "third_country", True),
        ("US", D(2023, 7, 9), "third_country", True),
        ("US", D(2023, 7, 10), "adequate_partial", True),
        ("BR", D(2026, 1, 25), "third_country", True),
        ("BR", D(2026, 1, 26), "adequate", True),
        ("KR", D(2021, 12, 16), "third_country", True),
        ("KR", D(2021, 12, 17), "adequate", True),
        ("CA", D(2024, 1, 1), "adequate_partial", True),
        ("JP", D(2024, 1, 1), "adequate_partial", True),
        ("AX", D(2024, 1, 1), "eea", False),
        ("MF", D(2024, 1, 1), "eea", False),
        ("FO", D(2024, 1, 1), "adequate", True),
        ("GL", D(2024, 1, 1), "third_country", True),
        ("CW", D(2024, 1, 1), "third_country", True),
        ("BQ", D(2024, 1, 1), "third_country", True),
        ("CH", D(2024, 1, 1), "adequate", True),
        ("SG", D(2024, 1, 1), "third_country", True),
        ("organisation:EPO", D(2025, 7, 17), "third_country", True),
        ("organisation:EPO", D(2025, 7, 18), "adequate", True),
    ],
)
def test_zone_as_of(ref, country, on, zone, transfer):
    got = ref.zone(country, on)
    assert (got.zone, got.transfer) == (zone, transfer)


def test_uk_acts_follow_each_other(ref):
    assert ref.adequacy_for("GB", D(2025, 6, 27)).id == "gb-2021-1772"
    assert ref.adequacy_for("GB", D(2025, 6, 28)).id == "gb-2025-1226-extension"
    assert ref.adequacy_for("GB", D(2025, 12, 28)).id == "gb-2025-2574-renewal"


@pytest.mark.parametrize(
    ("module", "on", "expected"),
    [
        (2, D(2021, 6, 26), "2010/87/EU"),
        (2, D(2021, 6, 27), "2021/914"),
        (1, D(2020, 1, 1), "2004/915/EC"),
        (3, D(2020, 1, 1), None),
        (4, D(2021, 6, 27), "2021/914"),
    ],
)
def test_scc_to_sign(ref, module, on, expected):
    got = ref.scc_to_sign(module, on)
    assert (got.id if got else None) == expected


@pytest.mark.parametrize(
    ("on", "concluded", "counts", "transitional"),
    [
        (D(2021, 9, 26), None, True, False),
        (D(2021, 9, 27), None, False, False),
        (D(2021, 9, 27), D(2021, 9, 26), True, True),
        (D(2022, 12, 27), D(2020, 1, 1), True, True),
        (D(2022, 12, 28), D(2020, 1, 1), False, False),
        (D(2021, 10, 1), D(2021, 9, 27), False, False),
        (D(2020, 1, 1), D(2020, 6, 1), False, False),  # concluded after the date asked about
    ],
)
def test_legacy_clauses_window(ref, on, concluded, counts, transitional):
    assert ref.scc_set("2010/87/EU").counts(on, concluded) == (counts, transitional)


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    for path in DATA.rglob("*.yaml"):
        (target / path.relative_to(DATA)).parent.mkdir(parents=True, exist_ok=True)
        (target / path.relative_to(DATA)).write_bytes(path.read_bytes())
    return target


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("adequacy.yaml", lambda d: d["decisions"][0].update(country="XX"), "not an ISO 3166-1 alpha-2"),
        ("adequacy.yaml", lambda d: d["decisions"][0].update(source="not a url"), "URL"),
        ("adequacy.yaml", lambda d: d["decisions"][0].pop("source"), "source"),
        ("adequacy.yaml", lambda d: d["decisions"][0].update(expires=D(1999, 1, 1)), "dates out of order"),
        (
            "adequacy.yaml",
            lambda d: d["decisions"].append(dict(d["decisions"][0], id="ch-dup")),
            "both in force",
        ),
        ("eea.yaml", lambda d: d["members"][0].update(source="nowhere"), "unknown source key"),
        ("instruments.yaml", lambda d: d["derogations"].pop(), "instruments missing"),
        ("adequacy.yaml", lambda d: d["decisions"][0].update(surprise=1), "Extra inputs"),
        # a provider's terms: every fact sourced, every source with its URL and read date, reviewed
        ("providers/aws.yaml", lambda d: d.pop("last_reviewed"), "last_reviewed"),
        ("providers/aws.yaml", lambda d: d["entity"].update(sources=[]), "entity.sources"),
        ("providers/aws.yaml", lambda d: d["transfers"].update(sources=["X9"]), "unknown source keys"),
        ("providers/aws.yaml", lambda d: d["sources"]["P1"].pop("read_on"), "read_on"),
        ("providers/aws.yaml", lambda d: d["sources"]["P1"].pop("url"), "url"),
        ("providers/aws.yaml", lambda d: d["dpf"].pop("verified"), "dpf.verified"),
        ("providers/gcp.yaml", lambda d: d["transfers"].update(importer=None), "onward clauses need"),
    ],
)
def test_broken_data_is_refused_with_file_and_line(tmp_path, file, change, message):
    data = _copy_data(tmp_path)
    _edit(data / file, change)
    with pytest.raises(Exception) as info:
        load_reference(data)
    text = str(info.value)
    assert message in text
    assert f"{data / file}:" in text  # file and line
