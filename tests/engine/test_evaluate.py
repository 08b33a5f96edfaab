"""The decision response: shape, parties, locations, languages, versions."""

from __future__ import annotations

import pytest

from engine.decision import Decision
from tests.conftest import TODAY, flow

SPEC_EXAMPLE = {
    "as_of": "2026-11-22",
    "policy": "gdpr",
    "lang": "en",
    "data": {"categories": ["contact", "health"], "subjects": ["employees"]},
    "exporter": {"name": "Gemeente Utrecht", "country": "NL", "role": "controller", "public_body": True},
    "recipient": {
        "name": "PayrollCo",
        "role": "processor",
        "country": "NL",
        "locations": ["NL", {"cloud": "aws", "region": "eu-central-1"}],
        "agreement": {"dpa": {"signed": True}},
        "sub_processors": [
            {
                "name": "MailerInc",
                "country": "US",
                "certifications": ["eu-us-dpf"],
                "agreement": {
                    "authorisation": {"kind": "general", "notified": True, "objection_period_elapsed": True},
                    "flow_down": True,
                },
            }
        ],
    },
}


def test_spec_example(engine):
    d = engine.evaluate(SPEC_EXAMPLE, TODAY)
    # employees' data needs the HR listing, which MailerInc lacks; its agreement is not signed either
    assert d.decision == "conditions"
    assert {(c.code, c.party) for c in d.conditions} == {
        ("dpa.conclude", "MailerInc"),
        ("transfer.sign_scc", "MailerInc"),
        ("transfer.assess_impact", "MailerInc"),
    }
    sign = next(c for c in d.conditions if c.code == "transfer.sign_scc")
    assert sign.location == "US" and sign.params == {"module": 3, "decision": "2021/914"}
    assert sign.path == ["Gemeente Utrecht", "PayrollCo", "MailerInc"]
    assert "Commission Implementing Decision (EU) 2021/914" in sign.basis
    root = d.hops[0]
    assert root.path == ["Gemeente Utrecht", "PayrollCo"] and root.decision == "allow"
    assert [loc.location.country for loc in root.locations] == ["NL", "DE"]
    assert root.locations[1].location.cloud == "aws" and root.locations[1].location.city == "Frankfurt"
    assert d.policy.id == "gdpr" and d.policy.version.startswith("2026.11.0+")
    assert d.reference_data.version == engine.reference.version


def test_conditions_are_not_duplicated(engine):
    d = engine.evaluate(flow(country="SG", locations=["SG", "Singapore", {"country": "SGP"}]), TODAY)
    codes = [c.code for c in d.conditions]
    assert sorted(codes) == ["transfer.assess_impact", "transfer.sign_scc"]
    assert len(d.hops[0].locations) == 3


def test_dutch_messages(engine):
    d = engine.evaluate({**flow(country="SG"), "lang": "nl"}, TODAY)
    sign = next(c for c in d.conditions if c.code == "transfer.sign_scc")
    assert "standaardcontractbepalingen" in sign.message
    en = engine.evaluate(flow(country="SG"), TODAY)
    assert [c.code for c in en.conditions] == [c.code for c in d.conditions]


@pytest.mark.parametrize(
    ("payload", "decision"),
    [
        (flow(country="PT"), "allow"),
        (flow(country="SG"), "conditions"),
        (
            flow(
                country="CN",
                agreement={
                    "dpa": {"signed": True},
                    "safeguards": {"tia": {"outcome": "no_effective_measures"}},
                },
            ),
            "deny",
        ),
    ],
)
def test_denials_exactly_when_denied(engine, payload, decision):
    d = engine.evaluate(payload, TODAY)
    assert d.decision == decision
    assert bool(d.denials) == (decision == "deny")
    assert (decision == "allow") == (not d.conditions and not d.denials)
    Decision.model_validate(d.model_dump(mode="json"))  # the response is its own schema


def test_decision_ids_are_random_uuid4(engine):
    import uuid

    ids = {engine.evaluate(flow(), TODAY).decision_id for _ in range(20)}
    assert len(ids) == 20
    assert all(uuid.UUID(i).version == 4 for i in ids)


def test_as_of_defaults_to_today(engine):
    payload = flow(country="GB")
    del payload["as_of"]
    assert engine.evaluate(payload, TODAY).as_of == TODAY


@pytest.mark.parametrize("ref", ["nl", "NLD", "Netherlands", "The Netherlands", "netherlands", " NL "])
def test_country_spellings(engine, ref):
    d = engine.evaluate(flow(country=ref), TODAY)
    assert d.hops[0].locations[0].location.country == "NL"


@pytest.mark.parametrize(
    ("ref", "code"), [("EL", "GR"), ("UK", "GB"), ("Republic of Korea", "KR"), ("South Korea", "KR")]
)
def test_eu_spellings_and_names(engine, ref, code):
    assert engine.evaluate(flow(country=ref), TODAY).hops[0].locations[0].location.country == code


def test_region_ids_in_any_case(engine):
    d = engine.evaluate(flow(locations=[{"cloud": "AWS", "region": "EU-CENTRAL-1"}]), TODAY)
    assert d.hops[0].locations[0].location.region == "eu-central-1"


def test_hops_echo_purpose_affiliate_and_access(engine):
    payload = flow(
        country="IE",
        purpose="customer support",
        affiliate=True,
        locations=["IE", {"country": "IN", "access": "own_staff"}, {"country": "US", "access": "transit"}],
    )
    d = engine.evaluate(payload, TODAY)
    hop = d.hops[0]
    assert (hop.purpose, hop.affiliate) == ("customer support", True)
    assert [loc.location.access for loc in hop.locations] == [None, "own_staff", "transit"]
    assert [loc.transfer for loc in hop.locations] == [False, False, False]
    assert {c.code for c in d.conditions} == {"processing.assess_third_country_access"}
    plain = engine.evaluate(flow(country="NL"), TODAY).model_dump(mode="json")
    assert plain["hops"][0]["purpose"] is None and plain["hops"][0]["affiliate"] is False
    assert "access" not in {
        k for loc in plain["hops"][0]["locations"] for k, v in loc["location"].items() if v
    }


def test_a_basis_filled_from_data_may_cite_several_provisions(engine):
    d = engine.evaluate({**flow(country="KR"), "data": {"categories": ["credit_information"]}}, TODAY)
    note = next(f for f in d.hops[0].locations[0].findings if f.code == "transfer.adequacy_exclusion_applies")
    assert "Commission Implementing Decision (EU) 2022/254 Art. 1(2)(b)" in note.basis
    assert all(isinstance(b, str) for b in note.basis)
