"""Conclusions: named legal readings in YAML, evaluated before the rule engine."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.conclusions import Conclusions, names, ordered, predicate
from engine.errors import LoadError
from engine.loader import POLICIES_DIR, load_policies
from engine.policy_schema import Conclusion


@pytest.mark.parametrize(
    ("when", "facts", "holds"),
    [
        ({"a": True}, {"a": True}, True),
        ({"a": True}, {"a": False}, False),
        ({"a": True, "b": "x"}, {"a": True, "b": "y"}, False),
        ({"b": {"not": "x"}}, {"b": "y"}, True),
        ({"b": {"in": ["x", "y"]}}, {"b": "y"}, True),
        ({"b": {"not_in": ["x", "y"]}}, {"b": "y"}, False),
        ({"n": {"not": 4}}, {"n": 3}, True),
        ({"any": [{"a": True}, {"b": "x"}]}, {"a": False, "b": "x"}, True),
        ({"any": [{"a": True}, {"b": "x"}]}, {"a": False, "b": "z"}, False),
        (
            {"all": [{"any": [{"a": True}, {"b": "x"}]}, {"any": [{"c": 1}]}]},
            {"a": True, "b": "z", "c": 1},
            True,
        ),
        (
            {"all": [{"any": [{"a": True}, {"b": "x"}]}, {"any": [{"c": 1}]}]},
            {"a": True, "b": "z", "c": 2},
            False,
        ),
    ],
)
def test_predicate(when, facts, holds):
    assert predicate(when)(facts) is holds


def test_names_reads_nested_conditions():
    assert names({"a": True, "any": [{"b": 1}, {"all": [{"c": 2}]}]}) == {"a", "b", "c"}


def _conclusion(cid: str, when: dict, scope: str = "location") -> Conclusion:
    return Conclusion(id=cid, title="A test reading", scope=scope, basis=["Test"], when=when)


def test_conclusions_are_drawn_after_those_they_read():
    later = _conclusion("both", {"first": True, "second": True})
    first = _conclusion("first", {"a": True})
    second = _conclusion("second", {"first": True, "b": False})
    assert [c.id for c in ordered([later, second, first])] == ["first", "second", "both"]
    facts = {"a": True, "b": False}
    Conclusions([later, second, first]).apply("location", facts)
    assert facts == {"a": True, "b": False, "first": True, "second": True, "both": True}


def test_conclusions_of_one_scope_leave_the_other_alone():
    facts = {"a": True}
    Conclusions([_conclusion("x", {"a": True}, scope="hop")]).apply("location", facts)
    assert facts == {"a": True}


PROFILE = """\
id: custom
version: "1"
title: Custom
extends: gdpr
conclusions: CONCLUSIONS
rules:
  - id: custom.rule
    title: A custom rule
    scope: location
    basis: [Policy custom]
    when: WHEN
    then: {effect: deny, code: policy.custom_denied}
messages:
  policy.custom_denied: {en: "No.", nl: "Nee."}
"""


def _load(tmp_path: Path, conclusions: str = "[]", when: str = "{zone: third_country}"):
    directory = tmp_path / "custom"
    directory.mkdir(exist_ok=True)
    text = PROFILE.replace("CONCLUSIONS", conclusions).replace("WHEN", when)
    (directory / "custom.yaml").write_text(text)
    return load_policies([POLICIES_DIR, directory])


def _problems(tmp_path: Path, **kw: str) -> str:
    with pytest.raises(LoadError) as info:
        _load(tmp_path, **kw)
    return str(info.value)


def test_a_profile_adds_a_conclusion_its_rules_read(tmp_path):
    conclusions = textwrap.dedent("""
        - id: outside_without_safeguard
          title: Outside the EEA with no safeguard that counts
          scope: location
          basis: [Policy custom]
          when: {zone: {not: eea}, safeguard_counts: false}
    """)
    policies = _load(tmp_path, conclusions=conclusions, when="{outside_without_safeguard: true}")
    profile = policies.profiles["custom"]
    order = [c.id for c in profile.conclusions]
    assert order.index("outside_without_safeguard") > order.index("safeguard_counts")
    assert "outside_without_safeguard" in profile.fields["location"]


def _yaml(*conclusions: tuple[str, str]) -> str:
    """Conclusions as a YAML flow list, from (id, when) pairs."""
    head = "title: A reading, scope: location, basis: [Test basis]"
    items = [f"{{id: {cid}, {head}, when: {when}}}" for cid, when in conclusions]
    return "[" + ", ".join(items) + "]"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"when": "{safeguard_count: false}"},
            "unknown location fact 'safeguard_count'; did you mean 'safeguard_counts'",
        ),
        ({"when": "{safeguard_counts: yes_please}"}, "fact 'safeguard_counts' is a boolean"),
        (
            {"when": "{any: [{any: [{zone: eea}]}]}"},
            "a rule takes one level of 'any'; name a conclusion instead",
        ),
        (
            {"when": "{all: [{zone: eea}]}"},
            "a rule takes one level of 'any'; name a conclusion instead of 'all'",
        ),
        ({"conclusions": _yaml(("zone", "{transfer: true}"))}, "conclusion zone: 'zone' is already a fact"),
        ({"conclusions": _yaml(("x", "{nothing: true}"))}, "conclusion x: unknown location fact 'nothing'"),
        ({"conclusions": _yaml(("x", "{dpa_signed: true}"))}, "unknown location fact 'dpa_signed'"),
        ({"conclusions": _yaml(("x", "{y: true}"), ("y", "{x: true}"))}, "conclusions read each other"),
        (
            {"conclusions": _yaml(("safeguard_counts", "{transfer: true}"))},
            "conclusions defined twice: ['safeguard_counts']",
        ),
    ],
)
def test_broken_conclusions_and_rules_are_refused(tmp_path, kw, message):
    assert message in _problems(tmp_path, **kw)


def test_the_shipped_conclusions_are_the_law_in_yaml():
    """The decisions the issue named are conclusions in policies/, not Python."""
    gdpr = load_policies([POLICIES_DIR]).profiles["gdpr"]
    drawn = {c.id for c in gdpr.conclusions}
    assert {
        "adequacy_covers",
        "listing_covers",
        "employee_scope_covers",
        "safeguard_counts",
        "public_instrument_counts",
        "arrangement_counts",
        "derogation_counts",
        "art46_route",
        "assessment_needed",
        "effective_measure",
    } <= drawn
    assert all(c.basis for c in gdpr.conclusions)
