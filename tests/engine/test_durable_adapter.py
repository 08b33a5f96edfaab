"""The durable-rules adapter: correct and leak-free (its thread safety: tests/engine/test_stress.py)."""

from __future__ import annotations

import pytest

from engine.compiler import compile_rules
from engine.durable_adapter import RuleEngine
from engine.errors import EngineError
from engine.policy_schema import Rule


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


def test_matched_rule_is_read_from_both_message_shapes():
    from engine.durable_adapter import _matched

    compact = '{"r.x":{"m":{"scope":"location","ref":"h0.l1","transfer":true,"sid":"s1"}}}'
    spaced = (
        '{"r.x": {"m": {"transfer": true, "scope": "hop", "ref": "h2", "sid": "s1"}}}'  # not the fast path
    )
    assert _matched(compact) == ("r.x", "h0.l1")
    assert _matched(spaced) == ("r.x", "h2")
