"""Conclusions: named legal readings over the facts, reached before the rule engine runs.

A conclusion such as "an Art. 46 safeguard counts" or "the adequacy decision covers
this recipient" is written in `policies/` with the same condition grammar as a rule's
`when` (plus `all` for grouping), so a lawyer reads it where the rules are. Its value
joins the fact record as a boolean that rules match on.

Why they are not compiled into durable-rules expressions: its C engine refuses or
crashes on the nested and/or forms a conclusion needs once negated (measured with
durable-rules 2.0.28: error 113 when creating the ruleset, or `free(): invalid
pointer`, for an `$or` of `$and`s inside an `$and`). Rules over flat facts with at
most one level of `any` are what it handles, so that is all the rules get.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterable
from typing import Any

from engine.policy_schema import Conclusion

Predicate = Callable[[dict[str, Any]], bool]


def predicate(when: dict[str, Any]) -> Predicate:
    """A `when` (every term holds) as a function of a fact record.

    Compiled to one Python expression: a conclusion is drawn for every location of
    every flow, and a chain of closures cost three times as much. The expression holds
    only `repr`s of names and values from a validated policy file, never raw text."""
    return eval(f"lambda f: {_source(when)}", {"__builtins__": {}})  # noqa: S307


def _source(when: dict[str, Any]) -> str:
    terms = [_term(name, value) for name, value in when.items()]
    return "(" + " and ".join(terms) + ")" if terms else "True"


def _term(name: str, value: Any) -> str:
    if name in ("any", "all"):
        joiner = " or " if name == "any" else " and "
        return "(" + joiner.join(_source(alternative) for alternative in value) + ")"
    fact = f"f[{name!r}]"
    if isinstance(value, dict):
        (op, operand), *_ = value.items()
        if op == "not":
            return f"{fact} != {operand!r}"
        members = repr(tuple(operand))
        return f"{fact} {'in' if op == 'in' else 'not in'} {members}"
    return f"{fact} == {value!r}"


def names(when: dict[str, Any]) -> set[str]:
    """Every fact or conclusion a `when` reads."""
    found: set[str] = set()
    for name, value in when.items():
        if name in ("any", "all"):
            for alternative in value:
                found |= names(alternative)
        else:
            found.add(name)
    return found


def ordered(conclusions: Iterable[Conclusion]) -> list[Conclusion]:
    """Conclusions in an order where each comes after those it reads.

    Raises graphlib.CycleError when two conclusions read each other."""
    by_id = {c.id: c for c in conclusions}
    graph = {c.id: names(c.when) & set(by_id) for c in by_id.values()}
    return [by_id[name] for name in graphlib.TopologicalSorter(graph).static_order()]


class Conclusions:
    """The compiled conclusions of one profile, applied to fact records in order."""

    def __init__(self, conclusions: Iterable[Conclusion]):
        self.steps: dict[str, list[tuple[str, Predicate]]] = {"hop": [], "location": []}
        for c in ordered(conclusions):
            self.steps[c.scope].append((c.id, predicate(c.when)))

    def apply(self, scope: str, facts: dict[str, Any]) -> None:
        for name, holds in self.steps[scope]:
            facts[name] = holds(facts)
