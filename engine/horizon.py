"""The horizon of a decision: the first later date on which the same flow is decided otherwise.

A decision depends on its date only through dated records: of the reference data (an
adequacy decision's start, expiry or annulment, an exclusion's period, a clause set's
windows, EEA membership and transition bridges, the date from which transfer impact
assessments are due) and of the request itself (the date clauses were concluded). Between
two such dates every fact the rules see is the same, so the decision is too. The horizon
therefore decides the flow again on each of those dates in order, up to ten years ahead,
and reports the first that differs, with the records whose dates fall on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from engine.decision import Cause, Decision, Horizon
from engine.flow import FlowRequest
from engine.reference import Reference

YEARS_AHEAD = 10
DAY = dt.timedelta(days=1)


def change_dates(ref: Reference, flow: FlowRequest) -> dict[dt.date, list[Cause]]:
    """Every date on which a fact may change, with what changes on it. An inclusive end
    (`until`, `expires`) changes things on the day after it."""
    found: dict[dt.date, list[Cause]] = {}
    for day, cause in [*_reference_changes(ref), *_request_changes(flow)]:
        found.setdefault(day, []).append(cause)
    return found


def find(
    first: Decision,
    flow: FlowRequest,
    ref: Reference,
    decide_on: Callable[[dt.date], Decision],
) -> Horizon | None:
    """The first date after `first.as_of`, within ten years, on which the decision differs."""
    start = first.as_of
    last = _years_later(start, YEARS_AHEAD)
    before = outcome(first)
    for day, causes in sorted(change_dates(ref, flow).items()):
        if not start < day <= last:
            continue
        later = decide_on(day)
        after = outcome(later)
        if after != before:
            return Horizon(
                changes_on=day,
                decision=later.decision,
                codes_added=sorted(after[1] - before[1]),
                codes_removed=sorted(before[1] - after[1]),
                because=causes,
            )
    return None


def outcome(decision: Decision) -> tuple[str, frozenset[str]]:
    """What makes two decisions differ: the verdict and the codes of what it finds."""
    codes = {f.code for f in [*decision.conditions, *decision.denials]}
    codes.update(a.code for a in decision.assumptions)
    return decision.decision, frozenset(codes)


def _reference_changes(ref: Reference) -> Iterator[tuple[dt.date, Cause]]:
    def cause(record: str, field: str, value: dt.date, source: Any = None) -> Cause:
        return Cause(record=record, field=field, value=value, source=str(source) if source else None)

    for m in ref.eea.members:
        yield m.from_, cause(f"eea:{m.country}", "from", m.from_)
        if m.until:
            yield m.until + DAY, cause(f"eea:{m.country}", "until", m.until)
    for b in ref.eea.bridges:
        yield b.from_, cause(f"bridge:{b.country}", "from", b.from_)
        yield b.until + DAY, cause(f"bridge:{b.country}", "until", b.until)
    for d in ref.adequacy.decisions:
        record = f"adequacy:{d.id}"
        yield d.applies_from, cause(record, "applies_from", d.applies_from, d.source)
        if d.expires:
            yield d.expires + DAY, cause(record, "expires", d.expires, d.source)
        if d.invalidated:
            yield d.invalidated, cause(record, "invalidated", d.invalidated, d.source)
        for e in d.exclusions:
            if e.from_:
                yield e.from_, cause(f"{record}/exclusion:{e.id}", "from", e.from_, d.source)
            if e.until:
                yield e.until + DAY, cause(f"{record}/exclusion:{e.id}", "until", e.until, d.source)
    for s in ref.instruments.scc_sets:
        record = f"scc:{s.id}"
        yield s.applies_from, cause(record, "applies_from", s.applies_from, s.source)
        for field in ("new_contracts_until", "concluded_contracts_until"):
            value = getattr(s, field)
            if value:
                yield value + DAY, cause(record, field, value, s.source)
    tia = ref.instruments.impact_assessment
    yield (
        tia.required_from,
        cause("instruments:impact_assessment", "required_from", tia.required_from, tia.source),
    )


def _request_changes(flow: FlowRequest) -> Iterator[tuple[dt.date, Cause]]:
    """Dates the request states (clauses concluded later than `as_of` count from that day)."""
    for loc, value in _dates(flow.model_dump(exclude={"as_of", "scenario"}), "request"):
        yield value, Cause(record=loc, field=loc.rsplit(".", 1)[-1], value=value, source=None)


def _dates(value: Any, loc: str) -> Iterator[tuple[str, dt.date]]:
    if isinstance(value, dt.date):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _dates(item, f"{loc}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _dates(item, f"{loc}[{i}]")


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
