"""Every `*.cases.yaml` beside the policies, one test per case, plus rule coverage
and the golden decision matrix."""

from __future__ import annotations

import difflib
import json

import pytest

from engine.api import Engine
from engine.golden import GOLDEN_PATH, build, dumps
from engine.loader import POLICIES_DIR, load_policies
from engine.policy_schema import Case, CaseExpect, CaseFile
from engine.policy_tests import compare, default_policy, run_case, run_case_files
from engine.yamlfile import read

CASE_FILES = load_policies([POLICIES_DIR]).case_files


def _cases():
    for path in CASE_FILES:
        for case in read(path).validate(CaseFile).cases:
            yield pytest.param(path, case, id=f"{path.stem.removesuffix('.cases')}:{case.id}")


@pytest.mark.parametrize(("path", "case"), list(_cases()))
def test_case(engine: Engine, path, case: Case):
    failures, _ = run_case(engine, case, case.flow.get("policy", default_policy(path)))
    assert failures == []


def test_every_rule_is_produced_by_some_case(engine: Engine):
    report = run_case_files(engine, CASE_FILES)
    assert report.problems == []
    assert {k: v for k, v in report.uncovered.items() if v} == {}
    assert report.ok


def test_coverage_notices_an_unproduced_rule(engine: Engine, tmp_path):
    one_case = tmp_path / "nl-gov.cases.yaml"
    one_case.write_text(
        "cases:\n"
        "  - id: belgian-processor\n"
        "    note: only the consent rule fires\n"
        "    flow: {as_of: 2025-03-15, exporter: {name: G, country: NL}, recipient: "
        "{name: B, role: processor, country: BE, agreement: {dpa: {signed: true}}}}\n"
        "    expect: {decision: conditions}\n"
    )
    report = run_case_files(engine, [one_case])
    assert report.failed == 0
    assert "nl_gov.location.consent_missing" not in report.uncovered["nl-gov"]
    assert "nl_gov.disclosure.not_agreed" in report.uncovered["nl-gov"]
    assert set(report.uncovered) == {"nl-gov"}  # only the profiles the cases ran under
    assert not report.ok


def test_compare_reports_each_difference(engine: Engine):
    decision = engine.evaluate(
        {
            "as_of": "2025-03-15",
            "exporter": {"name": "E", "country": "DE"},
            "recipient": {"name": "R", "role": "processor", "country": "SG"},
        }
    )
    expect = CaseExpect(decision="allow", conditions=["dpa.conclude"], zones=["eea"], rules_include=["x.y"])
    lines = compare(expect, decision)
    assert any(line.startswith("decision: expected allow, got conditions") for line in lines)
    assert any(line.startswith("conditions: expected ['dpa.conclude']") for line in lines)
    assert any(line.startswith("zones:") for line in lines)
    assert any(line.startswith("rules: missing ['x.y']") for line in lines)


def test_every_profile_has_a_case_file():
    covered = {default_policy(p) for p in CASE_FILES}
    assert set(load_policies([POLICIES_DIR]).profiles) <= covered


def test_golden_matrix_is_current(engine: Engine):
    """A change to rules or data changes this snapshot.

    Regenerate with `doorgifte golden --write` and review the diff."""
    fresh = dumps(build(engine))
    committed = GOLDEN_PATH.read_text(encoding="utf-8")
    if fresh != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(True), fresh.splitlines(True), "committed", "fresh", n=1
            )
        )
        pytest.fail("golden matrix differs (run `doorgifte golden --write` and review):\n" + diff[:5000])
    data = json.loads(committed)
    assert data["matrix"]["US gdpr 2023-08-01"]["dpf"] == "allow"
    assert data["matrix"]["US eu-residency 2023-08-01"]["dpf"] == "deny policy.location_outside_eea"
    assert data["matrix"]["GB gdpr 2021-03-01"]["none"] == "allow"
