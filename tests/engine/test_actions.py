"""The action plan: conditions grouped by who must act, towards whom (SPEC section 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.actions import Actor, names, resolve
from tests.conftest import TODAY

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "vendor-chain.json"


def _vendor_chain(**overrides) -> dict:
    return {**json.loads(EXAMPLE.read_text()), **overrides}


@pytest.mark.parametrize(
    ("kind", "path", "controller", "expected"),
    [
        ("exporter", ["G", "V", "S"], "G", Actor("V", "processor", "S")),
        ("engaging_processor", ["G", "V", "S"], "G", Actor("V", "processor", "G")),
        ("controller", ["G", "V", "S", "T"], "G", Actor("G", "controller", "V")),
        ("controller", ["P", "V"], None, Actor(None, "controller", "P")),  # the controller is not in the flow
        ("controller", ["G", "V", "C", "W"], "C", Actor("C", "controller", "W")),  # a controller further down
    ],
)
def test_actor_resolution(kind, path, controller, expected):
    assert resolve(kind, path, "processor", controller) == expected


@pytest.mark.parametrize(
    ("items", "lang", "text"),
    [
        (["A"], "en", "A"),
        (["A", "B"], "en", "A and B"),
        (["A", "B", "C", "D"], "nl", "A, B, C en D"),
        (["A", "B", "C", "D", "E", "F"], "en", "A, B, C and 3 more"),
        (["A", "B", "C", "D", "E", "F"], "nl", "A, B, C en nog 3"),
    ],
)
def test_names(items, lang, text):
    assert names(items, lang, 4) == text


def test_the_vendor_chain_boils_down_to_actions(engine):
    d = engine.evaluate(_vendor_chain(), TODAY)
    actions = d.actions
    # every condition is in exactly one action, and each says who acts
    covered = sorted(i for a in actions for i in a.conditions)
    assert covered == list(range(len(d.conditions)))
    assert all(c.actor and c.actor_role for c in d.conditions)
    assert len(actions) < len(d.conditions)
    # the municipality's own decision comes first: one consent for every place outside NL
    consent = actions[0]
    assert (consent.actor, consent.actor_role, consent.code) == (
        "Gemeente Utrecht",
        "controller",
        "location.obtain_written_consent",
    )
    assert consent.counterparty == "Zaakwerk BV"
    assert consent.parties == [
        "Amazon Web Services EMEA SARL",
        "Zendesk Inc",
        "Twilio Inc",
        "Support Partner Manila Inc",
    ]
    assert consent.locations == ["DE", "IE", "US", "BR", "PH"]
    assert "5 location(s)" in consent.message and consent.message.startswith("Gemeente Utrecht (controller)")
    assert [a.actor for a in actions[1:]] == ["Zaakwerk BV"] * (len(actions) - 1)
    scc = [a for a in actions if a.code == "transfer.sign_scc"]
    assert {a.counterparty for a in scc} == {"Twilio Inc", "Support Partner Manila Inc"}
    assert all(a.actor_role == "processor" for a in scc)
    authorisation = next(a for a in actions if a.code == "subprocessor.obtain_authorisation")
    assert authorisation.counterparty == "Gemeente Utrecht"
    assert "GDPR Art. 28(2)" in authorisation.basis


def test_actions_in_dutch(engine):
    d = engine.evaluate(_vendor_chain(lang="nl"), TODAY)
    assert d.actions[0].message.startswith("Gemeente Utrecht (verwerkingsverantwoordelijke): geef of weiger")
    scc = next(a for a in d.actions if a.code == "transfer.sign_scc")
    assert "standaardcontractbepalingen" in scc.message


def test_a_processor_caller_is_told_what_its_unnamed_controller_decides(engine):
    flow = {
        "as_of": "2026-11-22",
        "exporter": {"name": "Zaakwerk BV", "country": "NL", "role": "processor"},
        "recipient": {
            "name": "Research Ltd",
            "role": "controller",
            "country": "IN",
            "controller_of_exporter": False,
        },
    }
    d = engine.evaluate(flow, TODAY)
    instruction = next(a for a in d.actions if a.code == "disclosure.obtain_instruction")
    assert (instruction.actor, instruction.actor_role, instruction.counterparty) == (
        None,
        "controller",
        "Zaakwerk BV",
    )
    assert instruction.message.startswith("The controller: decide whether to instruct")
    # the caller's own actions come first
    assert d.actions[0].actor == "Zaakwerk BV"


def test_an_allow_has_no_actions(engine):
    flow = {
        "as_of": "2026-11-22",
        "exporter": {"name": "A", "country": "NL"},
        "recipient": {
            "name": "B",
            "role": "processor",
            "country": "DE",
            "agreement": {"dpa": {"signed": True}},
        },
    }
    assert engine.evaluate(flow, TODAY).actions == []


def test_every_contract_condition_has_an_action_text(engine):
    from engine import vocabulary as v

    templates = engine.policies.catalogue.templates
    for code in v.CONDITION_CODES:
        if code.startswith(("scope.", "transfer.sign_idta", "transfer.assess_risk", "transfer.identify")):
            continue  # codes of the UK and non-GDPR regimes (issue 17)
        assert set(templates.get(f"action.{code}", {})) == {"en", "nl"}, code
