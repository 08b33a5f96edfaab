"""Scenarios: a hypothetical change of the reference data for one evaluation (SPEC section 12).

"What if the DPF falls on 2027-03-01?" is answered by deciding the same flow over the
real reference data with a few records changed: an adequacy decision ending, a new
adequacy decision, a set of standard contractual clauses no longer usable. The change
is applied to copies; the shipped data is never touched and nothing is stored. The
answer's reference-data version names the scenario by a hash of its content, so a
decision taken in a hypothetical world can never pass for one taken in the real one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import Problem
from engine.reference import AdequacyDecision, Reference, SccSet, Scope

#: the act of an added decision when the scenario names none
HYPOTHETICAL = "hypothetical"
MAX_CHANGES = 50


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AdequacyEnd(Model):
    """An adequacy decision that no longer applies from `on` (annulled, repealed or suspended)."""

    decision: Annotated[str, Field(min_length=1, max_length=100)]
    on: dt.date


class AdequacyAdd(Model):
    """A new adequacy decision for a country from `from`, until `until` (inclusive) if given.

    It takes precedence over a decision the country already has while both are in force:
    a scenario models the change, not the world before it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    country: Annotated[str, Field(min_length=1, max_length=100)]
    scope: Literal["full"] | Scope = "full"
    from_: dt.date = Field(alias="from")
    until: dt.date | None = None
    act: Annotated[str, Field(min_length=1, max_length=200)] = HYPOTHETICAL


class InstrumentEnd(Model):
    """A set of standard contractual clauses that no longer counts from `on`, for new and
    already concluded contracts alike (as an annulment would have it)."""

    decision: Annotated[str, Field(min_length=1, max_length=100)]
    on: dt.date


class Scenario(Model):
    title: Annotated[str, Field(max_length=200)] | None = None
    adequacy_end: Annotated[list[AdequacyEnd], Field(max_length=MAX_CHANGES)] = Field(default_factory=list)
    adequacy_add: Annotated[list[AdequacyAdd], Field(max_length=MAX_CHANGES)] = Field(default_factory=list)
    instrument_end: Annotated[list[InstrumentEnd], Field(max_length=MAX_CHANGES)] = Field(
        default_factory=list
    )

    @property
    def digest(self) -> str:
        """Ten hex digits of the content (not the title): equal changes give an equal version."""
        content = self.model_dump_json(exclude={"title"}, by_alias=True)
        return hashlib.sha256(content.encode()).hexdigest()[:10]


def problems(scenario: Scenario, ref: Reference, country: Callable[[str], str | None]) -> list[Problem]:
    """Every id or country the scenario names that the reference data does not know."""
    found = []
    decisions = {d.id for d in ref.adequacy.decisions}
    decisions |= {d.id for law in ref.regimes.values() for d in law.adequacy}
    for i, end in enumerate(scenario.adequacy_end):
        if end.decision not in decisions:
            found.append(
                _unknown(f"scenario.adequacy_end[{i}].decision", "adequacy decision", end.decision, decisions)
            )
    for i, add in enumerate(scenario.adequacy_add):
        if country(add.country) is None:
            found.append(
                Problem(f"scenario.adequacy_add[{i}].country", f"unknown country {add.country!r}", None)
            )
        if add.until is not None and add.until < add.from_:
            found.append(Problem(f"scenario.adequacy_add[{i}].until", "until is before from", None))
        found.extend(_scope_problems(f"scenario.adequacy_add[{i}].scope", add.scope))
    sets = {s.id for s in ref.instruments.scc_sets}
    for i, stop in enumerate(scenario.instrument_end):
        if stop.decision not in sets:
            found.append(
                _unknown(f"scenario.instrument_end[{i}].decision", "clause set", stop.decision, sets)
            )
    return found


def _scope_problems(loc: str, scope: Literal["full"] | Scope) -> list[Problem]:
    """A partial scope needs what the rules read of it: sectors, or listings and their framework."""
    if scope == "full" or scope.kind == "full":
        return []
    if scope.kind == "sectors" and not scope.sectors:
        return [Problem(f"{loc}.sectors", "a sectoral decision needs the sectors it covers", None)]
    if scope.kind == "certified_organisations" and not (scope.certifications and scope.framework):
        hint = 'e.g. {"default": "eu-us-dpf"} and framework "dpf"'
        return [Problem(loc, "a decision for listed organisations needs certifications and framework", hint)]
    return []


def _unknown(loc: str, what: str, given: str, known: set[str]) -> Problem:
    return Problem(loc, f"unknown {what} {given!r}", "known: " + ", ".join(sorted(known)))


#: an adequacy record of the EU or of a regime (RegimeAdequacy): ended alike
D = TypeVar("D", bound=AdequacyDecision)


def apply(scenario: Scenario, ref: Reference, country: Callable[[str], str | None]) -> Reference:
    """The reference data as the scenario would have it (call `problems` first)."""
    ended = {e.decision: e.on for e in scenario.adequacy_end}
    kept = _ended(ref.adequacy.decisions, ended)
    added = [
        _added(i, add, country(add.country) or "", scenario) for i, add in enumerate(scenario.adequacy_add)
    ]
    adequacy = ref.adequacy.model_copy(update={"decisions": [*added, *kept]})
    stopped = {e.decision: e.on for e in scenario.instrument_end}
    sets = [_end_set(s, stopped[s.id]) if s.id in stopped else s for s in ref.instruments.scc_sets]
    instruments = ref.instruments.model_copy(update={"scc_sets": sets})
    regimes = {
        rid: law.model_copy(update={"adequacy": _ended(law.adequacy, ended)})
        for rid, law in ref.regimes.items()
    }
    return dataclasses.replace(
        ref,
        adequacy=adequacy,
        instruments=instruments,
        regimes=regimes,
        version=f"{ref.version}+scenario.{scenario.digest}",
    )


def _ended(records: list[D], ended: dict[str, dt.date]) -> list[D]:
    """The records, each the scenario ends annulled from its date."""
    return [_end_decision(d, ended[d.id]) if d.id in ended else d for d in records]


def _end_decision(decision: D, on: dt.date) -> D:
    until = min(on, decision.invalidated) if decision.invalidated else on
    return decision.model_copy(update={"invalidated": until})


def _end_set(clauses: SccSet, on: dt.date) -> SccSet:
    last = on - dt.timedelta(days=1)
    return clauses.model_copy(
        update={
            "new_contracts_until": min(last, clauses.new_contracts_until or last),
            "concluded_contracts_until": min(last, clauses.concluded_contracts_until or last),
        }
    )


def _added(index: int, add: AdequacyAdd, country: str, scenario: Scenario) -> AdequacyDecision:
    """A hypothetical decision: built, not validated against the shipped data's rules (its
    source is the scenario itself, which no URL names)."""
    scope = Scope(kind="full") if add.scope == "full" else add.scope
    return AdequacyDecision.model_construct(
        id=f"scenario.{scenario.digest}.{index}",
        country=country,
        organisation=None,
        act=add.act,
        adopted=add.from_,
        applies_from=add.from_,
        expires=add.until,
        invalidated=None,
        scope=scope,
        exclusions=[],
        note=scenario.title,
        source=f"scenario:{scenario.digest}",
        confidence="low",
        last_reviewed=add.from_,
    )
