"""What `facts.py` derives, tested directly: the plain facts the rules and conclusions read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.facts import FactBuilder, HopFacts
from engine.flow import FlowRequest
from tests.conftest import flow

DAY = dt.date(2026, 11, 22)


def _hops(engine, payload: dict[str, Any], as_of: dt.date = DAY) -> list[HopFacts]:
    """The fact records of a flow, before any conclusion is drawn."""
    request = FlowRequest.model_validate(payload)
    places, problems = engine._places(request)
    assert problems == []
    settings = engine.policies.profiles["gdpr"].settings
    builder = FactBuilder(engine.reference, settings, request, as_of, engine.resolver.country)
    return builder.hops(places)


def _location(engine, payload: dict[str, Any], as_of: dt.date = DAY, hop: int = 0) -> dict[str, Any]:
    return _hops(engine, payload, as_of)[hop].locations[0].facts


def _chain(*nodes: dict[str, Any], exporter: dict[str, Any] | None = None) -> dict[str, Any]:
    """A flow whose nodes each pass the data on to the next."""
    *parents, last = nodes
    child = dict(last)
    for node in reversed(parents):
        child = {**node, "sub_processors": [child]}
    return {
        "exporter": exporter or {"name": "Gemeente", "country": "NL", "public_body": True},
        "recipient": child,
    }


# ---------------------------------------------------------------- the exporter of each hop


def test_public_body_status_runs_down_the_processor_chain(engine):
    hops = _hops(
        engine,
        _chain(
            {"name": "P1", "role": "processor", "country": "NL"},
            {"name": "P2", "country": "DE"},
            {"name": "Own branch of P2", "role": "same_entity", "country": "DE"},
            {"name": "P3", "country": "US"},
        ),
    )
    assert [h.facts["exporter_public_body"] for h in hops] == [True, True, True, True]


def test_a_controller_node_starts_from_its_own_sector(engine):
    hops = _hops(
        engine,
        _chain(
            {"name": "P1", "role": "processor", "country": "NL"},
            {"name": "Private controller", "role": "controller", "country": "NL"},
            {"name": "Its processor", "role": "processor", "country": "US"},
            {"name": "Public controller", "role": "controller", "sector": "public", "country": "FR"},
            {"name": "Its processor too", "role": "processor", "country": "US"},
        ),
    )
    assert [h.facts["exporter_public_body"] for h in hops] == [True, True, False, False, True]


def test_a_private_exporter_is_no_public_body(engine):
    hops = _hops(
        engine,
        _chain(
            {"name": "P1", "role": "processor", "country": "NL"}, exporter={"name": "BV", "country": "NL"}
        ),
    )
    assert hops[0].facts["exporter_public_body"] is False


# ---------------------------------------------------------------- roles and SCC modules


@pytest.mark.parametrize(
    ("exporter_role", "node", "own_controller", "module"),
    [
        ("controller", {"role": "controller"}, False, 1),
        ("controller", {"role": "joint_controller"}, False, 1),
        ("controller", {"role": "processor"}, False, 2),
        ("processor", {"role": "processor"}, False, 3),
        ("processor", {"role": "controller"}, True, 4),  # the root's default: the processor's own controller
        ("processor", {"role": "controller", "controller_of_exporter": False}, False, 1),
        ("processor", {"role": "joint_controller", "controller_of_exporter": False}, False, 1),
    ],
)
def test_the_module_follows_the_roles(engine, exporter_role, node, own_controller, module):
    payload = {
        "exporter": {"name": "E", "country": "NL", "role": exporter_role},
        "recipient": {"name": "R", "country": "IN", **node},
    }
    facts = _location(engine, payload)
    assert facts["controller_of_exporter"] is own_controller
    assert facts["required_module"] == module


def test_a_controller_below_the_root_is_a_third_party_unless_said_otherwise(engine):
    payload = _chain(
        {"name": "P", "role": "processor", "country": "NL"},
        {"name": "C", "role": "controller", "country": "IN"},
        exporter={"name": "E", "country": "NL"},
    )
    assert _location(engine, payload, hop=1)["controller_of_exporter"] is False
    payload["recipient"]["sub_processors"][0]["controller_of_exporter"] = True
    facts = _location(engine, payload, hop=1)
    assert facts["controller_of_exporter"] is True and facts["required_module"] == 4


# ---------------------------------------------------------------- places: transit, own staff


@pytest.mark.parametrize(
    ("country", "access", "transfer", "in_eea"),
    [
        ("IE", "full", True, True),
        ("IE", "own_staff", False, True),  # an EEA importer's own people abroad
        ("IE", "transit", False, True),
        ("US", "own_staff", True, False),  # a US importer: a transfer whoever reads the data
        ("US", "transit", False, False),
    ],
)
def test_transit_and_own_staff(engine, country, access, transfer, in_eea):
    payload = flow(country=country, locations=[{"country": "IN", "access": access}])
    facts = _location(engine, payload)
    assert (facts["transfer"], facts["recipient_in_eea"], facts["access"]) == (transfer, in_eea, access)
    assert facts["zone"] == "third_country"


def test_the_establishment_defaults_to_the_first_place(engine):
    payload = flow(country=None, locations=["IE", {"country": "IN", "access": "own_staff"}])
    payload["recipient"].pop("country")
    hop = _hops(engine, payload)[0]
    assert [loc.facts["recipient_in_eea"] for loc in hop.locations] == [True, True]


# ---------------------------------------------------------------- adequacy scopes and exclusions


def test_listing_facts_for_the_dpf(engine):
    payload = flow(country="US", certifications=["eu-us-dpf-hr"])
    payload["data"] = {"subjects": ["employees"]}
    facts = _location(engine, payload)
    assert facts["adequacy_scope"] == "certified_organisations"
    assert facts["certification_framework"] == "dpf"
    assert (facts["holds_hr_listing"], facts["holds_default_listing"], facts["holds_listing"]) == (
        True,
        False,
        True,
    )
    assert (facts["employee_data"], facts["other_subject_data"]) == (True, False)
    assert facts["certifications_required"] == ["eu-us-dpf-hr"]


def test_no_subject_stated_counts_as_other_subjects(engine):
    facts = _location(engine, flow(country="US"))
    assert (facts["employee_data"], facts["other_subject_data"]) == (False, True)
    assert facts["certifications_required"] == ["eu-us-dpf"]


def test_canada_limits_employee_data(engine):
    facts = _location(engine, flow(country="CA", role="controller", federally_regulated=True))
    assert facts["adequacy_scope"] == "sectors" and facts["sector_in_scope"] is True
    assert facts["employees_limited"] is True and facts["federally_regulated"] is True
    assert "PIPEDA s. 4(1)(b)" in facts["employees_basis"]


@pytest.mark.parametrize(
    ("data", "triggered", "assumed"),
    [
        ({}, [], ["kr-religious-missionary", "kr-political-nomination", "kr-credit-information"]),
        ({"categories": ["credit_information"]}, ["kr-credit-information"], []),
        ({"purposes": ["political_activity", "journalism"]}, ["kr-political-nomination"], []),
    ],
)
def test_exclusions_are_triggered_by_what_the_flow_states(engine, data, triggered, assumed):
    payload = {**flow(country="KR"), "data": data}
    facts = _location(engine, payload)
    assert facts["exclusions_triggered"] == triggered
    assert facts["exclusion_triggered"] is bool(triggered)
    assert facts["exclusions_assumed"] == assumed
    assert facts["exclusion_assumed"] is bool(assumed)


def test_an_exclusion_belongs_to_the_act_in_force(engine):
    payload = {**flow(country="GB"), "data": {"purposes": ["immigration_control"]}}
    assert _location(engine, payload, dt.date(2024, 3, 1))["exclusion_triggered"] is True
    after_renewal = _location(engine, payload, DAY)
    assert after_renewal["exclusion_triggered"] is False and after_renewal["exclusion_assumed"] is False


def test_no_adequacy_means_no_scope_facts(engine):
    facts = _location(engine, flow(country="IN"))
    assert facts["adequacy"] is False and facts["adequacy_scope"] == ""
    assert facts["exclusion_triggered"] is False and facts["holds_listing"] is False


# ---------------------------------------------------------------- safeguards, derogations, measures


def test_derogation_facts_come_from_the_reference_data(engine):
    def derogation(ground: str) -> dict[str, Any]:
        payload = flow(country="US", agreement={"safeguards": {"derogation": {"ground": ground}}})
        return _location(engine, payload)

    consent = derogation("explicit_consent")
    assert consent["derogation_occasional_required"] is True
    assert consent["derogation_public_body_excluded"] is True
    assert consent["derogation_occasional"] is False
    register = derogation("public_register")
    assert register["derogation_occasional_required"] is False
    assert register["derogation_public_body_excluded"] is False
    assert register["derogation_basis"] == "GDPR Art. 49(1)(g)"


@pytest.mark.parametrize(
    ("measures", "always", "without_clear_text"),
    [
        ([], False, False),
        (["transport_encryption", "contractual"], False, False),
        (["encryption_keys_in_eea"], False, True),
        (["split_processing", "organisational"], True, False),
    ],
)
def test_measure_effectiveness_comes_from_the_reference_data(engine, measures, always, without_clear_text):
    safeguards = {"scc": {"module": 2}, "supplementary_measures": measures}
    facts = _location(engine, flow(country="US", agreement={"safeguards": safeguards}))
    assert facts["measure_effective_always"] is always
    assert facts["measure_effective_without_clear_text"] is without_clear_text
    assert facts["supplementary_measures"] is bool(measures)
    assert facts["needs_clear_text_access"] is True


def test_public_instruments_are_stated_facts(engine):
    safeguards = {"public_authority_instrument": True, "administrative_arrangement": {"authorised": False}}
    facts = _location(engine, flow(country="US", sector="public", agreement={"safeguards": safeguards}))
    assert facts["public_instrument_stated"] is True
    assert (facts["arrangement_stated"], facts["arrangement_authorised"]) == (True, False)


def test_legacy_clause_dates_are_params_from_the_data(engine):
    scc = {"module": 2, "decision": "2010/87/EU", "concluded_on": "2021-01-01"}
    facts = _location(engine, flow(country="IN", agreement={"safeguards": {"scc": scc}}), dt.date(2022, 6, 1))
    assert facts["scc_counts"] is True and facts["scc_transitional"] is True
    assert facts["scc_new_contracts_until"] == "2021-09-26"
    assert facts["scc_concluded_contracts_until"] == "2022-12-27"


def test_answer_period_and_hop_echoes(engine):
    payload = _chain(
        {"name": "P", "role": "processor", "country": "NL"},
        {
            "name": "S",
            "country": "DE",
            "purpose": "backups",
            "affiliate": True,
            "agreement": {"authorisation": {"kind": "specific", "answer_period_elapsed": True}},
        },
    )
    sub = _hops(engine, payload)[1]
    assert sub.facts["answer_period_elapsed"] is True and sub.facts["authorisation_granted"] == "unknown"
    assert (sub.purpose, sub.affiliate) == ("backups", True)
