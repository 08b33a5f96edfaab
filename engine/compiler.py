"""Compile policy rules into durable-rules ruleset definitions. Pure: data in, data out.

Each rule becomes one single-condition durable rule over one fact record. The
facts are asserted (not posted), so every rule that matches fires, and its action,
named after the rule id, reports `(rule id, fact ref)`. There is no catch-all rule:
a fact that no rule matches makes durable-rules raise, and the adapter turns that
into an engine error (fail closed). Every verdict-complete rule base matches each
fact at least once, and a catch-all would cost one more action per fact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from engine.policy_schema import Rule


def compile_condition(scope: str, when: dict[str, Any]) -> dict[str, Any]:
    """`when` of a rule -> a durable-rules match expression, scoped to hop or location facts."""
    return _and([{"scope": scope}, *_terms(when)])


def _terms(when: dict[str, Any]) -> list[dict[str, Any]]:
    terms: list[dict[str, Any]] = []
    for name, value in when.items():
        if name == "any":
            terms.append(_or([_and(_terms(alternative)) for alternative in value]))
        elif isinstance(value, dict) and "not" in value:
            terms.append({"$neq": {name: value["not"]}})
        elif isinstance(value, dict) and "in" in value:
            terms.append(_or([{name: item} for item in value["in"]]))
        elif isinstance(value, dict) and "not_in" in value:
            terms.append(_and([{"$neq": {name: item}} for item in value["not_in"]]))
        else:
            terms.append({name: value})
    return terms


def _and(terms: list[dict[str, Any]]) -> dict[str, Any]:
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _or(terms: list[dict[str, Any]]) -> dict[str, Any]:
    return terms[0] if len(terms) == 1 else {"$or": terms}


def compile_rules(rules: Iterable[Rule]) -> dict[str, Any]:
    """The body of one ruleset: rule id -> durable rule."""
    return {
        rule.id: {"all": [{"m": compile_condition(rule.scope, rule.when)}], "run": rule.id} for rule in rules
    }


def referenced_facts(rules: Iterable[Rule]) -> dict[str, list[str]]:
    """The fact names the rules match on, per scope: only these are sent to the engine,
    since durable-rules parses every matched fact again for each action it runs."""
    names: dict[str, set[str]] = {"hop": set(), "location": set()}
    for rule in rules:
        names[rule.scope].update(_names(rule.when))
    return {scope: sorted(found) for scope, found in names.items()}


def _names(when: dict[str, Any]) -> set[str]:
    found = set()
    for name, value in when.items():
        if name == "any":
            for alternative in value:
                found |= _names(alternative)
        else:
            found.add(name)
    return found


def ruleset_name(profile_id: str, body: dict[str, Any]) -> str:
    """A name unique to this rule base version, so two versions never share a ruleset."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    return f"{profile_id.replace('-', '_')}_{digest}"
