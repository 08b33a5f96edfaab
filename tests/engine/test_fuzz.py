"""Property-based tests: any JSON gets a valid decision or a contract problem, never a crash,
and every decision keeps the invariants of SPEC section 3."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import vocabulary as v
from engine.combine import RANK
from engine.decision import Decision
from engine.errors import RequestInvalid
from tests.conftest import TODAY, flow

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)

COUNTRIES = ["NL", "DE", "US", "GB", "CH", "SG", "CN", "JP", "CA", "BR", "IN", "GI", "FO", "EEA", "worldwide"]
REGIONS = [
    {"cloud": "aws", "region": "eu-central-1"},
    {"cloud": "azure", "region": "eastus"},
    {"organisation": "EPO"},
]
DATES = [
    "2018-05-25",
    "2019-01-01",
    "2020-07-16",
    "2021-03-01",
    "2021-09-27",
    "2022-12-28",
    "2023-07-10",
    "2026-11-22",
]

safeguards = st.fixed_dictionaries(
    {},
    optional={
        "scc": st.fixed_dictionaries(
            {"module": st.integers(1, 4)},
            optional={"decision": st.sampled_from(v.SCC_DECISIONS), "concluded_on": st.sampled_from(DATES)},
        ),
        "bcr": st.fixed_dictionaries({"kind": st.sampled_from(v.BCR_KINDS), "approved": st.booleans()}),
        "derogation": st.fixed_dictionaries(
            {"ground": st.sampled_from(v.DEROGATIONS), "occasional": st.booleans()}
        ),
        "tia": st.fixed_dictionaries({"outcome": st.sampled_from(v.TIA_OUTCOMES)}),
        "supplementary_measures": st.lists(
            st.sampled_from(["encryption_keys_in_eea", "pseudonymisation"]), max_size=2
        ),
        "ad_hoc_clauses": st.booleans(),
        "public_authority_instrument": st.booleans(),
    },
)
agreements = st.fixed_dictionaries(
    {},
    optional={
        "dpa": st.fixed_dictionaries(
            {"signed": st.booleans()}, optional={"clauses": st.lists(st.sampled_from(v.CLAUSES), max_size=5)}
        ),
        "authorisation": st.fixed_dictionaries(
            {"kind": st.sampled_from(["specific", "general", "none"])},
            optional={
                "granted": st.booleans(),
                "notified": st.booleans(),
                "objected": st.booleans(),
                "written": st.booleans(),
            },
        ),
        "flow_down": st.booleans(),
        "instructed": st.booleans(),
        "joint_arrangement": st.booleans(),
        "location_consent": st.booleans(),
        "safeguards": safeguards,
    },
)


def recipients(depth: int) -> st.SearchStrategy:
    base = {
        "name": st.text(min_size=1, max_size=12),
        "role": st.sampled_from(v.ROLES),
        "locations": st.lists(st.sampled_from(COUNTRIES) | st.sampled_from(REGIONS), min_size=1, max_size=3),
    }
    optional = {
        "sector": st.sampled_from(v.SECTORS),
        "certifications": st.lists(st.sampled_from(v.CERTIFICATIONS), max_size=2),
        "subject_to_gdpr": st.booleans(),
        "agreement": agreements,
    }
    if depth > 1:
        optional["sub_processors"] = st.lists(recipients(depth - 1), max_size=2)
    return st.fixed_dictionaries(base, optional=optional)


flows = st.fixed_dictionaries(
    {
        "as_of": st.sampled_from(DATES),
        "policy": st.sampled_from(["gdpr", "nl-gov", "eu-residency", "sensitive-in-eea"]),
        "lang": st.sampled_from(v.LANGUAGES),
        "data": st.fixed_dictionaries(
            {
                "categories": st.lists(st.sampled_from(v.CATEGORIES), max_size=3),
                "subjects": st.lists(st.sampled_from(v.SUBJECTS), max_size=2),
            }
        ),
        "exporter": st.fixed_dictionaries(
            {
                "name": st.just("Exporter"),
                "country": st.sampled_from(["NL", "DE", "FR"]),
                "role": st.sampled_from(v.EXPORTER_ROLES),
                "public_body": st.booleans(),
            }
        ),
        "recipient": recipients(3),
    }
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _answer(engine, payload):
    try:
        return engine.evaluate(payload, TODAY)
    except RequestInvalid as exc:
        assert exc.status == 422 and exc.problems
        assert all(p.loc and p.msg for p in exc.problems)
        return None


@FUZZ
@given(json_values)
def test_any_json_is_a_decision_or_a_problem(engine, payload):
    _answer(engine, payload)


@FUZZ
@given(
    st.lists(
        st.sampled_from(["exporter", "recipient", "data", "as_of", "policy", "lang", "agreement", "dpa"]),
        min_size=1,
        max_size=3,
    ),
    json_values,
)
def test_mutated_flows(engine, path, value):
    payload = copy.deepcopy(flow(country="SG", agreement={"dpa": {"signed": True}}))
    node = payload
    for key in path[:-1]:
        child = node.get(key) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            break
        node = child
    node[path[-1]] = value
    _answer(engine, payload)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows)
def test_generated_flows_keep_the_invariants(engine, payload):
    decision = _answer(engine, payload)
    if decision is None:
        return
    Decision.model_validate(decision.model_dump(mode="json"))
    assert bool(decision.denials) == (decision.decision == "deny")
    if decision.decision == "allow":
        assert not decision.conditions
    if decision.decision == "conditions":
        assert decision.conditions
    assert decision.decision == max((h.decision for h in decision.hops), key=RANK.__getitem__)
    for hop in decision.hops:
        assert RANK[hop.decision] >= max((RANK[loc.decision] for loc in hop.locations), default=0)
    if payload["policy"] == "eu-residency":
        outside = any(loc.zone != "eea" for hop in decision.hops for loc in hop.locations)
        assert outside == (
            decision.decision == "deny"
            and "policy.location_outside_eea" in {d.code for d in decision.denials}
        )
