"""Compile policy rules into durable-rules ruleset definitions. Pure: data in, data out.

Each rule becomes one single-condition durable rule over one fact record. The
facts are asserted (not posted), so every rule that matches fires, and its action,
named after the rule id, reports `(rule id, fact ref)`. A catch-all rule marks
every fact as seen, so a fact no rule matched is still handled (durable-rules
raises otherwise) and the adapter can prove each fact reached the engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from engine.policy_schema import Rule

SEEN = "_seen"


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
    """The body of one ruleset: rule id -> durable rule, plus the catch-all."""
    body: dict[str, Any] = {
        rule.id: {"all": [{"m": compile_condition(rule.scope, rule.when)}], "run": rule.id} for rule in rules
    }
    body[SEEN] = {"all": [{"m": {"$ex": {"scope": 1}}}], "run": SEEN}
    return body


def ruleset_name(profile_id: str, body: dict[str, Any]) -> str:
    """A name unique to this rule base version, so two versions never share a ruleset."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    return f"{profile_id.replace('-', '_')}_{digest}"
