"""Replay's pure core: the request decided again, the comparison table, the counters."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from service.replay import (
    Logged,
    Outcome,
    Params,
    Tally,
    classify,
    decision_outcome,
    outcome,
    payload,
    redecide,
)


def answer(decision: str, *conditions: tuple[str, list[str]], assumptions: tuple[str, ...] = ()) -> dict:
    return {
        "decision": decision,
        "as_of": "2026-11-01",
        "conditions": [{"code": c, "basis": b} for c, b in conditions],
        "denials": [{"code": c, "basis": b} for c, b in conditions] if decision == "deny" else [],
        "assumptions": [{"code": a} for a in assumptions],
    }


SCC = ("transfer.sign_scc", ["GDPR Art. 46(2)(c)"])
TIA = ("transfer.assess_impact", ["GDPR Art. 46(1)"])


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (answer("allow"), answer("conditions", SCC), "tightened"),
        (answer("allow"), answer("deny", SCC), "tightened"),
        (answer("conditions", SCC), answer("deny", SCC), "tightened"),
        (answer("deny", SCC), answer("allow"), "loosened"),
        (answer("conditions", SCC), answer("allow"), "loosened"),
        (answer("conditions", SCC), answer("conditions", SCC, TIA), "reasons_changed"),
        (
            answer("conditions", SCC),
            answer("conditions", ("transfer.sign_scc", ["GDPR Art. 46"])),
            "reasons_changed",
        ),
        (answer("allow", assumptions=("assume.dpf_certification",)), answer("allow"), "reasons_changed"),
        (answer("conditions", SCC, TIA), answer("conditions", TIA, SCC), "unchanged"),
    ],
)
def test_the_comparison_table(before, after, kind):
    assert classify(outcome(before), outcome(after)) == kind


def test_a_message_or_party_is_not_a_change():
    before = answer("conditions", SCC)
    after = json.loads(json.dumps(before))
    after["conditions"][0].update(message="anders geformuleerd", party="Other Ltd")
    assert classify(outcome(before), outcome(after)) == "unchanged"


def test_a_golden_answer_is_compared_by_decision_and_codes_only():
    golden = outcome({"decision": "conditions", "golden": {"codes": ["transfer.sign_scc"]}})
    fresh = SimpleNamespace(
        decision="conditions",
        conditions=[SimpleNamespace(code="transfer.sign_scc", basis=["anything"])],
        denials=[],
        assumptions=[SimpleNamespace(code="assume.dpa_clauses_not_assessed")],
    )
    assert classify(golden, decision_outcome(fresh, golden)) == "unchanged"
    fresh.conditions.append(SimpleNamespace(code="transfer.assess_impact", basis=[]))
    assert classify(golden, decision_outcome(fresh, golden)) == "reasons_changed"
    full = decision_outcome(fresh, Outcome("conditions", frozenset()))
    assert ("assumptions", "assume.dpa_clauses_not_assessed", ()) in full.reasons


def test_the_request_is_decided_at_its_logged_date_or_the_jobs_never_as_a_dry_run():
    logged = {"as_of": "2025-01-01", "dry_run": True, "horizon": True, "exporter": {}, "recipient": {}}
    assert payload(logged, "2025-01-01", Params()) == {"as_of": "2025-01-01", "exporter": {}, "recipient": {}}
    no_date = {"exporter": {}, "recipient": {}}  # decided "today": the answer says which day that was
    assert payload(no_date, "2026-11-20", Params())["as_of"] == "2026-11-20"
    scenario = {"adequacy_end": [{"decision": "us-dpf-2023-1795", "on": "2027-03-01"}]}
    again = payload(logged, "2025-01-01", Params(as_of="2027-03-01", scenario=scenario))
    assert again["as_of"] == "2027-03-01" and again["scenario"] == scenario and "dry_run" not in again


@pytest.mark.parametrize(
    ("tally", "fail_on", "crossed"),
    [
        (Tally(total=3, unchanged=3), "changed", False),
        (Tally(total=3, unchanged=2, reasons_changed=1), "changed", True),
        (Tally(total=3, unchanged=2, reasons_changed=1), "tightened", False),
        (Tally(total=3, unchanged=2, loosened=1), "tightened", False),
        (Tally(total=3, unchanged=2, tightened=1), "tightened", True),
        (Tally(total=3, unchanged=2, errors=1), "tightened", True),
        (Tally(total=3, unchanged=2, errors=1), "changed", True),
        (Tally(total=3, unchanged=0, tightened=3), None, False),
    ],
)
def test_fail_on(tally, fail_on, crossed):
    assert tally.crosses(fail_on) is crossed


def test_an_unreadable_row_is_an_error_not_an_exception():
    row = Logged(1, "d-1", "{not json", json.dumps(answer("allow")))
    result = redecide(None, row, Params())
    assert result.kind == "error" and "not JSON" in result.change["error"]["detail"]
    no_date = Logged(2, "d-2", "{}", json.dumps({"decision": "allow"}))
    assert redecide(None, no_date, Params()).change["error"]["detail"] == "the logged answer has no as_of"


def test_the_counters_add_up():
    tally = Tally()
    for kind in ("unchanged", "tightened", "error", "error", "reasons_changed"):
        tally.count(kind)
    other = Tally(total=1, loosened=1)
    tally.add(other)
    assert tally.as_json() == {
        "total": 6,
        "unchanged": 1,
        "tightened": 1,
        "loosened": 1,
        "reasons_changed": 1,
        "errors": 2,
    }
