"""The engine remembers which rules a fact record fires (firing.py) and how a fired rule reads
(assemble.py). These tests hold it to answering exactly as an engine that remembers nothing."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bench.flows import varied
from engine.api import Engine
from engine.firing import FiringMemo
from engine.memo import Bounded
from tests.conftest import TODAY
from tests.mixed_flows import expected_answer, mixed_flows

FLOWS = varied(250, seed=7)


@pytest.fixture(scope="module")
def cold() -> Engine:
    """An engine that remembers nothing: every record goes to durable-rules, every finding is rendered."""
    engine = Engine.load()
    engine.rules.known = Bounded(0)
    engine.renderings = Bounded(0)
    return engine


@pytest.fixture(scope="module")
def warm() -> Engine:
    engine = Engine.load()
    for flow in FLOWS:
        engine.evaluate(flow, today=TODAY)
    return engine


@pytest.fixture(scope="module")
def flows(warm: Engine) -> list[dict[str, Any]]:
    """The seeded mix, and the stress tests' mix (every profile, sensitive data categories)."""
    return FLOWS + mixed_flows(warm)


def test_a_remembering_engine_answers_as_one_that_remembers_nothing(warm, cold, flows):
    """250 seeded flows that differ (vendors, roles, safeguards, chains, profiles, languages,
    dates) and the stress tests' mix, decided again in another order by a warm engine, word
    for word as a cold one."""
    order = random.Random(1).sample(range(len(flows)), len(flows))
    differ = [i for i in order if expected_answer(warm, flows[i]) != expected_answer(cold, flows[i])]
    assert not differ, f"flows decided differently once remembered: {differ[:10]}"
    assert cold.rules.known.misses > len(warm.rules.known)  # the cold engine asked durable every time


def test_the_same_flow_in_another_language_is_not_served_from_the_first(warm, cold):
    flow = {**FLOWS[0], "lang": "nl"}
    dutch = expected_answer(warm, flow)
    english = expected_answer(warm, {**flow, "lang": "en"})
    assert dutch["hops"][0]["findings"][0]["message"] != english["hops"][0]["findings"][0]["message"]
    assert dutch == expected_answer(cold, flow)


def test_durable_rules_is_asked_only_about_records_it_has_not_seen(warm):
    before = warm.rules.known.misses
    for flow in FLOWS[:50]:
        warm.evaluate(flow, today=TODAY)
    assert warm.rules.known.misses == before


class Counting:
    """A rule engine that fires rule `yes` on records whose `x` is True and `no` on others."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def fire(self, ruleset: str, facts: list[dict[str, Any]]) -> list[tuple[str, str]]:
        self.asked.extend(facts)
        return [("yes" if f["x"] is True else "no", f["ref"]) for f in facts]

    def add(self, name: str, body: dict[str, Any]) -> None:
        pass


def test_values_are_told_apart_by_type_as_durable_rules_would_not():
    rules = Counting()
    memo = FiringMemo(rules)  # type: ignore[arg-type]
    fields = {"hop": ["x"], "location": ["x"]}
    records = [("hop", f"h{i}", (x,)) for i, x in enumerate((True, 1, "1", True, 1.0))]
    fired = memo.fire("r", fields, records)
    assert fired == [("yes", "h0"), ("no", "h1"), ("no", "h2"), ("yes", "h3"), ("no", "h4")]
    assert [f["x"] for f in rules.asked] == [True, 1, "1", 1.0]  # the second True was remembered
    assert memo.fire("other", fields, records[:1]) == [("yes", "h0")] and len(rules.asked) == 5  # per ruleset
    assert memo.fire("r", fields, [("location", "l0", (True,))]) == [("yes", "l0")] and len(rules.asked) == 6


def test_the_oldest_entries_go_first_beyond_the_size():
    table: Bounded[int, int] = Bounded(3)
    for i in range(5):
        table.put(i, i * i)
    assert [table.get(i) for i in range(5)] == [None, None, 4, 9, 16] and len(table) == 3
    nothing: Bounded[int, int] = Bounded(0)
    assert nothing.put(1, 1) == 1 and nothing.get(1) is None
