"""Scenarios (a hypothetical change of the reference data) and horizons (the next date a
decision changes), SPEC section 12."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from engine import horizon
from engine.errors import RequestInvalid
from engine.flow import FlowRequest
from engine.vocabulary import ART_28_3_CLAUSES
from tests.conftest import flow

REPO = Path(__file__).resolve().parents[2]
DPF_FALLS = {"title": "DPF annulled", "adequacy_end": [{"decision": "us-dpf-2023-1795", "on": "2027-03-01"}]}
ART28 = list(ART_28_3_CLAUSES)


def us_processor(as_of: str = "2027-03-01", **extra: Any) -> dict[str, Any]:
    """A DPF-listed US processor under a complete Art. 28 agreement: allowed while the DPF holds."""
    f = flow(
        country="US", certifications=["eu-us-dpf"], agreement={"dpa": {"signed": True, "clauses": ART28}}
    )
    return {**f, "as_of": as_of, **extra}


def codes(decision) -> set[str]:
    return {f.code for f in [*decision.conditions, *decision.denials]}


# ------------------------------------------------------------------ scenarios


def test_the_dpf_falling_turns_a_listed_us_processor_into_conditions(engine):
    real = engine.evaluate(us_processor())
    assert real.decision == "allow"
    hypothetical = engine.evaluate(us_processor(scenario=DPF_FALLS))
    assert hypothetical.decision == "conditions"
    assert {"transfer.sign_scc", "transfer.assess_impact"} <= codes(hypothetical)


def test_a_scenario_counts_only_from_its_date(engine):
    before = engine.evaluate(us_processor(as_of="2027-02-28", scenario=DPF_FALLS))
    assert before.decision == "allow"


def test_a_scenario_names_itself_in_the_data_version_and_is_echoed(engine):
    real = engine.evaluate(us_processor())
    hypothetical = engine.evaluate(us_processor(scenario=DPF_FALLS))
    version = hypothetical.reference_data.version
    assert version.startswith(real.reference_data.version + "+scenario.")
    assert len(version.rsplit(".", 1)[1]) == 10
    assert hypothetical.reference_data.scenario is not None
    assert hypothetical.reference_data.scenario.title == "DPF annulled"
    assert real.reference_data.scenario is None


def test_the_hash_depends_on_the_changes_not_the_title(engine):
    a = engine.evaluate(us_processor(scenario=DPF_FALLS)).reference_data.version
    b = engine.evaluate(us_processor(scenario={**DPF_FALLS, "title": "other"})).reference_data.version
    later = {"adequacy_end": [{"decision": "us-dpf-2023-1795", "on": "2027-03-02"}]}
    c = engine.evaluate(us_processor(scenario=later)).reference_data.version
    assert a == b != c


def test_a_scenario_never_changes_the_real_reference_data(engine):
    engine.evaluate(us_processor(scenario=DPF_FALLS))
    assert engine.reference.adequacy_for("US", dt.date(2027, 3, 1)) is not None
    assert engine.evaluate(us_processor()).decision == "allow"


def test_an_added_decision_makes_india_adequate(engine):
    india = flow(country="IN", agreement={"dpa": {"signed": True, "clauses": ART28}})
    add = {"adequacy_add": [{"country": "IN", "scope": "full", "from": "2027-06-01", "act": "hypothetical"}]}
    assert "transfer.sign_scc" in codes(engine.evaluate({**india, "as_of": "2027-06-01"}))
    before = engine.evaluate({**india, "as_of": "2027-05-31", "scenario": add})
    after = engine.evaluate({**india, "as_of": "2027-06-01", "scenario": add})
    assert "transfer.sign_scc" in codes(before)
    assert after.decision == "allow"
    assert after.hops[0].locations[0].zone == "adequate"


def test_an_added_decision_may_end(engine):
    india = flow(country="India", agreement={"dpa": {"signed": True, "clauses": ART28}})
    add = {"adequacy_add": [{"country": "India", "from": "2027-06-01", "until": "2028-05-31"}]}
    assert engine.evaluate({**india, "as_of": "2028-05-31", "scenario": add}).decision == "allow"
    assert engine.evaluate({**india, "as_of": "2028-06-01", "scenario": add}).decision == "conditions"


def test_the_2021_clauses_ending_leave_a_signed_us_transfer_without_a_safeguard(engine):
    scc = {
        "scc": {"module": 2, "decision": "2021/914", "concluded_on": "2025-01-10"},
        "tia": {"outcome": "no_problematic_law"},
    }
    unlisted = flow(
        country="US",
        agreement={"dpa": {"signed": True, "clauses": ART28}, "safeguards": scc},
    )
    end = {"instrument_end": [{"decision": "2021/914", "on": "2030-01-01"}]}
    assert engine.evaluate({**unlisted, "as_of": "2029-12-31", "scenario": end}).decision == "allow"
    after = engine.evaluate({**unlisted, "as_of": "2030-01-01", "scenario": end})
    assert codes(after) == {"transfer.sign_scc"}


@pytest.mark.parametrize(
    ("scenario", "loc"),
    [
        (
            {"adequacy_end": [{"decision": "us-dpf-2099", "on": "2027-03-01"}]},
            "scenario.adequacy_end[0].decision",
        ),
        (
            {"instrument_end": [{"decision": "2099/1", "on": "2030-01-01"}]},
            "scenario.instrument_end[0].decision",
        ),
        (
            {"adequacy_add": [{"country": "Atlantis", "from": "2027-01-01"}]},
            "scenario.adequacy_add[0].country",
        ),
        (
            {"adequacy_add": [{"country": "IN", "from": "2027-01-01", "until": "2026-01-01"}]},
            "scenario.adequacy_add[0].until",
        ),
        (
            {"adequacy_add": [{"country": "IN", "from": "2027-01-01", "scope": {"kind": "sectors"}}]},
            "scenario.adequacy_add[0].scope.sectors",
        ),
        ({"adequacy_end": [{"decision": "us-dpf-2023-1795"}]}, "scenario.adequacy_end[0].on"),
        ({"adequacy_gone": []}, "scenario.adequacy_gone"),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_field(engine, scenario, loc):
    with pytest.raises(RequestInvalid) as caught:
        engine.evaluate(us_processor(scenario=scenario))
    assert loc in [p.loc for p in caught.value.problems]


def test_an_unknown_decision_lists_the_known_ones(engine):
    with pytest.raises(RequestInvalid) as caught:
        engine.check_scenario({"adequacy_end": [{"decision": "us-dpf", "on": "2027-03-01"}]})
    (problem,) = caught.value.problems
    assert "us-dpf-2023-1795" in (problem.hint or "")


def test_check_scenario_accepts_a_good_file(engine):
    assert engine.check_scenario(DPF_FALLS).digest == engine.check_scenario(DPF_FALLS).digest


# ------------------------------------------------------------------ horizons


def test_the_horizon_of_a_dpf_transfer_under_the_scenario_is_the_day_it_falls(engine):
    d = engine.evaluate(us_processor(as_of="2027-01-10", scenario=DPF_FALLS, horizon=True))
    assert d.decision == "allow"
    h = d.horizon
    assert h is not None
    assert h.changes_on == dt.date(2027, 3, 1)
    assert h.decision == "conditions"
    assert "transfer.sign_scc" in h.codes_added
    assert "assume.dpf_certification" in h.codes_removed
    assert [(c.record, c.field) for c in h.because] == [("adequacy:us-dpf-2023-1795", "invalidated")]


def test_the_uk_decision_ending_is_a_horizon(engine):
    uk = flow(country="GB", agreement={"dpa": {"signed": True, "clauses": ART28}})
    d = engine.evaluate({**uk, "as_of": "2026-12-01", "horizon": True})
    assert d.decision == "allow"
    assert d.horizon is not None
    assert d.horizon.changes_on == dt.date(2031, 12, 28)  # the day after it expires
    assert any(c.record.startswith("adequacy:gb-") and c.field == "expires" for c in d.horizon.because)
    assert "transfer.sign_scc" in d.horizon.codes_added


def test_a_flow_inside_the_eea_has_no_horizon(engine):
    d = engine.evaluate({**flow(), "as_of": "2026-12-01", "horizon": True})
    assert d.horizon is None


def test_no_horizon_unless_asked(engine):
    assert engine.evaluate(us_processor(as_of="2027-01-10", scenario=DPF_FALLS)).horizon is None


@pytest.mark.parametrize(("starts", "seen"), [("2037-01-10", True), ("2037-01-11", False)])
def test_the_horizon_looks_ten_years_ahead_only(engine, starts, seen):
    india = flow(country="IN", agreement={"dpa": {"signed": True, "clauses": ART28}})
    add = {"adequacy_add": [{"country": "IN", "from": starts}]}
    d = engine.evaluate({**india, "as_of": "2027-01-10", "scenario": add, "horizon": True})
    assert (d.horizon is not None) is seen
    if seen:
        assert d.horizon.changes_on.isoformat() == starts
        assert d.horizon.decision == "allow"


def test_clauses_concluded_later_are_a_horizon_from_the_request(engine):
    scc = {
        "scc": {"module": 2, "decision": "2021/914", "concluded_on": "2027-02-01"},
        "tia": {"outcome": "no_problematic_law"},
    }
    f = flow(country="IN", agreement={"dpa": {"signed": True, "clauses": ART28}, "safeguards": scc})
    d = engine.evaluate({**f, "as_of": "2027-01-10", "horizon": True})
    assert d.horizon is not None
    assert d.horizon.changes_on == dt.date(2027, 2, 1)
    assert d.horizon.because[0].record.endswith("scc.concluded_on")


UK = {"name": "Example Retail Ltd", "country": "GB"}


def test_a_uk_transfer_on_old_clauses_changes_when_the_uk_transition_ends(engine):
    """The UK's own dated records are change dates (SPEC section 4a): old EU clauses under the
    UK GDPR count up to and including 2024-03-20, so the horizon is 2024-03-21."""
    safeguards = {
        "scc": {"module": 2, "decision": "2010/87/EU", "concluded_on": "2022-09-01"},
        "tia": {"outcome": "no_problematic_law"},
    }
    recipient = {"name": "Cloud CRM Inc", "role": "processor", "country": "IN"}
    recipient["agreement"] = {"dpa": {"signed": True}, "safeguards": safeguards}
    d = engine.evaluate({"as_of": "2024-01-10", "horizon": True, "exporter": UK, "recipient": recipient})
    assert d.decision == "allow" and d.horizon is not None
    assert d.horizon.changes_on == dt.date(2024, 3, 21)
    assert d.horizon.codes_added == ["transfer.sign_idta"]
    assert d.horizon.because[0].record == "uk_gdpr/legacy_clauses"


def test_an_idta_concluded_later_is_a_horizon_from_the_request(engine):
    recipient = {"name": "Cloud CRM Inc", "role": "processor", "country": "IN"}
    safeguards = {"idta": {"concluded_on": "2027-02-01"}, "tia": {"outcome": "no_problematic_law"}}
    recipient["agreement"] = {"dpa": {"signed": True}, "safeguards": safeguards}
    d = engine.evaluate({"as_of": "2027-01-10", "horizon": True, "exporter": UK, "recipient": recipient})
    assert d.decision == "conditions" and d.horizon is not None
    assert (d.horizon.changes_on, d.horizon.decision) == (dt.date(2027, 2, 1), "allow")
    assert d.horizon.because[0].record.endswith("idta.concluded_on")


def test_a_uk_extension_listing_becomes_adequate_on_2023_10_12(engine):
    recipient = {"name": "Lakeside SaaS", "role": "processor", "country": "US"}
    recipient |= {"certifications": ["uk-us-data-bridge"], "agreement": {"dpa": {"signed": True}}}
    payload = {"as_of": "2023-06-01", "horizon": True, "data": {"subjects": ["customers"]}}
    d = engine.evaluate({**payload, "exporter": UK, "recipient": recipient})
    assert d.horizon is not None and d.horizon.changes_on == dt.date(2023, 10, 12)
    assert d.horizon.decision == "allow"


def test_the_decision_is_constant_between_change_dates(engine):
    """The premise of the horizon: deciding on every day of a stretch between two change
    dates gives one outcome (checked on a month around the DPF's start and a scenario's end)."""
    f = FlowRequest.model_validate(us_processor(scenario=DPF_FALLS))
    reference = engine.scenario_reference(f.scenario)
    dates = sorted(horizon.change_dates(reference, f))
    start = dt.date(2027, 2, 10)
    outcomes = {}
    for n in range(40):
        day = start + dt.timedelta(days=n)
        outcomes[day] = horizon.outcome(
            engine.evaluate(us_processor(as_of=day.isoformat(), scenario=DPF_FALLS))
        )
    for a, b in zip(sorted(outcomes), sorted(outcomes)[1:], strict=False):
        if outcomes[a] != outcomes[b]:
            assert b in dates, f"the decision changed on {b}, which no record dates"


def test_change_dates_cover_every_dated_kind_of_record(engine):
    f = FlowRequest.model_validate(us_processor())
    records = {
        c.record.split(":")[0]
        for causes in horizon.change_dates(engine.reference, f).values()
        for c in causes
    }
    assert {"eea", "bridge", "adequacy", "scc", "instruments"} <= records


@pytest.mark.parametrize("country", ["GB", "US", "CH", "JP", "KR", "CA", "IN", "BR", "DE", "IL"])
@pytest.mark.parametrize("as_of", ["2019-06-01", "2026-12-01"])
def test_records_of_other_places_never_hide_a_change(engine, country, as_of):
    """The horizon reads only the records of the places a flow names; deciding again on every
    date of every record finds the same first change."""
    f = FlowRequest.model_validate({**us_processor(as_of=as_of), "horizon": True})
    f = f.model_copy(update={"recipient": f.recipient.model_copy(update={"country": country})})
    first = engine.evaluate(f)
    reference = engine.reference

    def decide_on(day: dt.date):
        return engine.evaluate(f.model_copy(update={"as_of": day, "horizon": False}))

    everything = horizon.find(first.as_of, f, reference, decide_on, None, first)
    if everything is None:
        assert first.horizon is None
        return
    assert first.horizon is not None
    assert first.horizon.model_dump(exclude={"because"}) == everything.model_dump(exclude={"because"})
    # only the records of the flow's own places (and the clause sets) are named as the cause
    assert first.horizon.because and set(map(repr, first.horizon.because)) <= set(
        map(repr, everything.because)
    )


def test_the_horizon_knows_every_date_a_flow_request_can_state():
    """`horizon._request_changes` reads clause dates only; a new date field must be added there."""

    def date_fields(model, seen=()) -> set[str]:
        found = set()
        for name, info in model.model_fields.items():
            text = str(info.annotation)
            if "datetime.date" in text:
                found.add(name)
            for inner in getattr(info.annotation, "__args__", ()) + (info.annotation,):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
                    found |= date_fields(inner, (*seen, model))
        return found

    # concluded_on: of the EU clauses, the IDTA and the UK Addendum (all read by _request_changes)
    assert date_fields(FlowRequest) == {"as_of", "concluded_on", "on", "from_", "until"}


@pytest.mark.parametrize("path", sorted((REPO / "scenarios").glob("*.json")), ids=lambda p: p.name)
def test_the_shipped_scenarios_are_valid(engine, path):
    scenario = engine.check_scenario(json.loads(path.read_text(encoding="utf-8")))
    assert scenario.title
    assert engine.scenario_reference(scenario).version.endswith(scenario.digest)


def test_a_scenario_may_end_a_regimes_own_adequacy_record(engine):
    """What if the UK Extension fell with the DPF? `adequacy_end` names the UK's record too: a
    listed US recipient of a UK exporter then needs the IDTA (SPEC sections 4a and 12)."""
    recipient = {"name": "Lakeside SaaS", "role": "processor", "country": "US"}
    recipient |= {"certifications": ["uk-us-data-bridge"], "agreement": {"dpa": {"signed": True}}}
    payload = {
        "as_of": "2027-06-01",
        "data": {"subjects": ["customers"]},
        "exporter": UK,
        "recipient": recipient,
    }
    assert engine.evaluate(payload).decision == "allow"
    falls = {
        "title": "UK Extension falls",
        "adequacy_end": [{"decision": "uk-us-2023-1028", "on": "2027-03-01"}],
    }
    d = engine.evaluate({**payload, "scenario": falls})
    assert {c.code for c in d.conditions} == {"transfer.sign_idta", "transfer.assess_risk"}
    assert engine.reference.regimes["uk_gdpr"].adequacy_for("US", False, dt.date(2027, 6, 1)) is not None
