"""Profiles applied together (SPEC section 6): the union of their rules and settings."""

from __future__ import annotations

import dataclasses

import pytest

from engine.errors import RequestInvalid
from engine.loader import CombineError, combine
from tests.conftest import TODAY


def _flow(policy, country: str = "US") -> dict:
    return {
        "as_of": "2026-11-22",
        "policy": policy,
        "exporter": {"name": "Gemeente", "country": "NL", "public_body": True},
        "recipient": {
            "name": "Host",
            "role": "processor",
            "country": country,
            "agreement": {"dpa": {"signed": True}},
        },
    }


def _codes(d) -> set[str]:
    return {c.code for c in d.conditions} | {x.code for x in d.denials}


def test_a_combination_applies_every_profile(engine):
    alone = {p: _codes(engine.evaluate(_flow(p), TODAY)) for p in ("nl-gov", "eu-residency")}
    both = engine.evaluate(_flow(["nl-gov", "eu-residency"]), TODAY)
    assert _codes(both) == alone["nl-gov"] | alone["eu-residency"]
    assert both.decision == "deny"
    assert both.policy.id == "eu-residency+nl-gov"
    assert [p.id for p in both.policy.profiles] == ["eu-residency", "nl-gov"]
    versions = {p.id: p.version for p in both.policy.profiles}
    assert versions["nl-gov"] == engine.policies.profiles["nl-gov"].version


def test_the_order_and_spelling_of_a_combination_do_not_matter(engine):
    ids = {
        engine.evaluate(_flow(policy), TODAY).policy.id
        for policy in (
            ["eu-residency", "nl-gov"],
            ["nl-gov", "eu-residency", "nl-gov"],
            "nl-gov+eu-residency",
        )
    }
    assert ids == {"eu-residency+nl-gov"}


def test_a_rule_shared_through_extends_counts_once(engine):
    combined = engine.profile(["nl-gov", "sensitive-in-eea"])[0]
    ids = [r.id for r in combined.rules]
    assert len(ids) == len(set(ids))
    assert ids.count("transfer.safeguard.missing") == 1
    assert "nl_gov.location.consent_missing" in ids and "sensitive_in_eea.location.outside_eea" in ids
    # the clause checklist is the union: nl-gov's extended list contains gdpr's
    assert set(combined.settings.dpa_required_clauses or []) >= set(
        engine.policies.profiles["nl-gov"].settings.dpa_required_clauses or []
    )


def test_one_id_in_a_list_is_that_profile(engine):
    assert engine.evaluate(_flow(["nl-gov"]), TODAY).policy.id == "nl-gov"


def test_unknown_ids_in_a_list_are_named(engine):
    with pytest.raises(RequestInvalid) as info:
        engine.evaluate(_flow(["nl-gov", "eu-residncy"]), TODAY)
    (problem,) = info.value.problems
    assert problem.loc == "policy[1]" and "eu-residency" in (problem.hint or "")


def test_at_most_four_profiles(engine):
    with pytest.raises(RequestInvalid):
        engine.evaluate(_flow(["gdpr", "nl-gov", "eu-residency", "sensitive-in-eea", "gdpr"]), TODAY)


def test_disagreeing_scalar_settings_are_refused(engine):
    nl = engine.policies.profiles["nl-gov"]
    de = dataclasses.replace(nl, id="de-gov", settings=nl.settings.model_copy(update={"home_country": "DE"}))
    with pytest.raises(CombineError, match="different home countries"):
        combine([de, nl])
