"""The durable-rules adapter: correct, leak-free and safe under threads."""

from __future__ import annotations

import json
import threading

import pytest

from engine.compiler import compile_rules
from engine.durable_adapter import RuleEngine
from engine.errors import EngineError
from engine.policy_schema import Rule
from tests.conftest import TODAY, flow


def _rule(rule_id, **when):
    return Rule.model_validate(
        {
            "id": rule_id,
            "title": "a rule",
            "scope": "location",
            "basis": ["x y"],
            "when": when,
            "then": {"effect": "note", "code": "a.note"},
        }
    )


@pytest.fixture(scope="module")
def small():
    return RuleEngine({"t": compile_rules([_rule("r.transfer", transfer=True), _rule("r.eea", zone="eea")])})


def test_every_matching_rule_fires_per_fact(small):
    fired = small.fire(
        "t",
        [
            {"scope": "location", "ref": "a", "transfer": True, "zone": "eea"},
            {"scope": "location", "ref": "b", "transfer": True, "zone": "third_country"},
        ],
    )
    assert sorted(fired) == [("r.eea", "a"), ("r.transfer", "a"), ("r.transfer", "b")]


def test_state_is_deleted_after_each_evaluation(small):
    # more than the 1,024 live state ids durable-rules allows: only works if each is deleted
    for _ in range(1500):
        assert small.fire("t", [{"scope": "location", "ref": "a", "transfer": True, "zone": "x"}]) == [
            ("r.transfer", "a")
        ]


def test_no_leak_between_evaluations(small):
    small.fire("t", [{"scope": "location", "ref": "a", "transfer": True, "zone": "eea"}])
    assert small.fire("t", [{"scope": "location", "ref": "a", "transfer": False, "zone": "eea"}]) == [
        ("r.eea", "a")
    ]


def test_a_fact_no_rule_matches_fails_closed(small):
    with pytest.raises(EngineError, match="matched no rule"):
        small.fire(
            "t",
            [
                {"scope": "location", "ref": "a", "transfer": True, "zone": "eea"},
                {"scope": "location", "ref": "b", "transfer": False, "zone": "x"},
            ],
        )


def test_unknown_ruleset_fails_closed(small):
    with pytest.raises(EngineError, match="not registered"):
        small.fire("nope", [{"scope": "location", "ref": "a"}])


def test_the_same_fact_twice_fails_closed(small):
    fact = {"scope": "location", "ref": "a", "transfer": True, "zone": "eea"}
    with pytest.raises(EngineError, match="twice"):
        small.fire("t", [fact, dict(fact)])


def test_one_call_per_evaluation_reports_every_fact(small):
    facts = [{"scope": "location", "ref": f"l{i}", "transfer": True, "zone": "x"} for i in range(50)]
    assert sorted(small.fire("t", facts)) == sorted(("r.transfer", f"l{i}") for i in range(50))


def _mixed_flows():
    flows = [
        flow(country="PT"),
        flow(country="SG"),
        flow(
            country="CN",
            agreement={
                "dpa": {"signed": True},
                "safeguards": {"scc": {"module": 2}, "tia": {"outcome": "no_effective_measures"}},
            },
        ),
        flow(country="US", certifications=["eu-us-dpf"]),
        {**flow(country="JP"), "policy": "sensitive-in-eea", "data": {"categories": ["health"]}},
        {**flow(country="BE"), "policy": "nl-gov"},
        {**flow(locations=[{"cloud": "aws", "region": "us-east-1"}]), "policy": "eu-residency"},
        flow(
            country="IE",
            sub_processors=[
                {
                    "name": "Sub",
                    "country": "IN",
                    "agreement": {"authorisation": {"kind": "general", "objected": True}},
                },
                {"name": "Sub2", "country": "MX", "sub_processors": [{"name": "Sub3", "country": "BR"}]},
            ],
        ),
    ]
    return flows


def _answer(engine, payload):
    d = engine.evaluate(payload, TODAY).model_dump(mode="json")
    d.pop("decision_id")
    return json.dumps(d, sort_keys=True)


@pytest.mark.slow
def test_eight_threads_give_the_single_thread_answers(engine):
    """8 threads x 2,000 mixed evaluations: same answers as one thread, nothing crashes."""
    flows = _mixed_flows()
    expected = [_answer(engine, f) for f in flows]
    assert (
        len({json.loads(e)["decision"] for e in expected}) == 3
    )  # allow, conditions and deny are all in the mix
    errors: list[BaseException] = []
    mismatches: list[int] = []

    def work(offset: int) -> None:
        try:
            for i in range(2000):
                k = (i + offset) % len(flows)
                if _answer(engine, flows[k]) != expected[k]:
                    mismatches.append(k)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert mismatches == []


def test_matched_rule_is_read_from_both_message_shapes():
    from engine.durable_adapter import _matched

    compact = '{"r.x":{"m":{"scope":"location","ref":"h0.l1","transfer":true,"sid":"s1"}}}'
    spaced = '{"r.x": {"m": {"transfer": true, "scope": "hop", "ref": "h2", "sid": "s1"}}}'  # not the fast path
    assert _matched(compact) == ("r.x", "h0.l1")
    assert _matched(spaced) == ("r.x", "h2")
