"""The horizon of a decision: the first later date on which the same flow is decided otherwise.

A decision depends on its date only through dated records: of the reference data (an
adequacy decision's start, expiry or annulment, an exclusion's period, a clause set's
windows, EEA membership and transition bridges, the date from which transfer impact
assessments are due, and the same records of the UK's and Switzerland's own law) and of the
request itself (the date clauses, the IDTA or the UK Addendum were concluded). Between
two such dates every fact the rules see is the same, so the decision is too. The horizon
therefore decides the flow again on each of those dates in order, up to ten years ahead,
and reports the first that differs, with the records whose dates fall on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from engine.decision import Cause, Decision, Horizon
from engine.facts import node_loc, walk
from engine.flow import FlowRequest
from engine.reference import AdequacyDecision, Reference, RegimeFile

YEARS_AHEAD = 10
DAY = dt.timedelta(days=1)


def change_dates(
    ref: Reference, flow: FlowRequest, places: set[str] | None = None
) -> dict[dt.date, list[Cause]]:
    """Every date on which a fact may change, with what changes on it. An inclusive end
    (`until`, `expires`) changes things on the day after it. With `places` (the countries and
    organisations the flow names: exporter, establishments, locations), records of other
    places are left out: they cannot change this flow's facts."""
    found: dict[dt.date, list[Cause]] = {}
    for day, cause in [*_reference_changes(ref, places), *_request_changes(flow)]:
        found.setdefault(day, []).append(Cause.model_construct(**cause._asdict()))
    return found


def find(
    start: dt.date,
    flow: FlowRequest,
    ref: Reference,
    decide_on: Callable[[dt.date], Decision],
    places: set[str] | None = None,
    first: Decision | None = None,
) -> Horizon | None:
    """The first date after `start`, within ten years, on which the decision differs from the
    one on `start` (`first`, decided here only when some record dates a change at all)."""
    last = _years_later(start, YEARS_AHEAD)
    changes: dict[dt.date, list[_Cause]] = {}
    for day, cause in [*_reference_changes(ref, places), *_request_changes(flow)]:
        if start < day <= last:
            changes.setdefault(day, []).append(cause)
    if not changes:
        return None
    before = outcome(first or decide_on(start))
    for day, causes in sorted(changes.items()):
        later = decide_on(day)
        after = outcome(later)
        if after != before:
            return Horizon(
                changes_on=day,
                decision=later.decision,
                codes_added=sorted(after[1] - before[1]),
                codes_removed=sorted(before[1] - after[1]),
                because=[Cause(**c._asdict()) for c in causes],
            )
    return None


def outcome(decision: Decision) -> tuple[str, frozenset[str]]:
    """What makes two decisions differ: the verdict and the codes of what it finds."""
    codes = {f.code for f in [*decision.conditions, *decision.denials]}
    codes.update(a.code for a in decision.assumptions)
    return decision.decision, frozenset(codes)


class _Cause(NamedTuple):
    """A Cause before it is needed: most dates never become a horizon."""

    record: str
    field: str
    value: dt.date
    source: str | None


def _reference_changes(ref: Reference, places: set[str] | None) -> Iterator[tuple[dt.date, _Cause]]:
    def cause(record: str, field: str, value: dt.date, source: Any = None) -> _Cause:
        return _Cause(record, field, value, str(source) if source else None)

    def named(place: str) -> bool:
        return places is None or place in places

    for m in ref.eea.members:
        if not named(m.country):
            continue
        yield m.from_, cause(f"eea:{m.country}", "from", m.from_)
        if m.until:
            yield m.until + DAY, cause(f"eea:{m.country}", "until", m.until)
    for b in ref.eea.bridges:
        if not named(b.country):
            continue
        yield b.from_, cause(f"bridge:{b.country}", "from", b.from_)
        yield b.until + DAY, cause(f"bridge:{b.country}", "until", b.until)
    for d in ref.adequacy.decisions:
        if named(d.place):
            yield from _decision_changes(f"adequacy:{d.id}", d)
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
    for law in ref.regimes.values():
        if places is None or places.intersection(law.area):
            yield from _regime_changes(law, named)


def _decision_changes(record: str, d: AdequacyDecision) -> Iterator[tuple[dt.date, _Cause]]:
    """An adequacy record's dates (the EU's or a regime's): its start, expiry or annulment, and
    its exclusions' periods."""
    source = str(d.source)
    yield d.applies_from, _Cause(record, "applies_from", d.applies_from, source)
    if d.expires:
        yield d.expires + DAY, _Cause(record, "expires", d.expires, source)
    if d.invalidated:
        yield d.invalidated, _Cause(record, "invalidated", d.invalidated, source)
    for e in d.exclusions:
        if e.from_:
            yield e.from_, _Cause(f"{record}/exclusion:{e.id}", "from", e.from_, source)
        if e.until:
            yield e.until + DAY, _Cause(f"{record}/exclusion:{e.id}", "until", e.until, source)


def _regime_changes(law: RegimeFile, named: Callable[[str], bool]) -> Iterator[tuple[dt.date, _Cause]]:
    """The dated records of a regime (SPEC section 4a), for a flow that names its area: a hop is
    under a regime only when its exporter is established there."""
    rid = law.regime
    yield law.applies_from, _Cause(f"regime:{rid}", "applies_from", law.applies_from, None)
    for d in law.adequacy:
        if d.area is not None or named(d.place):
            yield from _decision_changes(f"{rid}/adequacy:{d.id}", d)
    for t in law.tools:
        yield (
            t.applies_from,
            _Cause(f"{rid}/tool:{t.id}", "applies_from", t.applies_from, _source(law, t.source)),
        )
    legacy = law.legacy_clauses
    for field in ("new_contracts_until", "concluded_contracts_until"):
        value = getattr(legacy, field)
        yield value + DAY, _Cause(f"{rid}/legacy_clauses", field, value, _source(law, legacy.source))
    yield (
        law.assessment_required_from,
        _Cause(f"{rid}/assessment", "required_from", law.assessment_required_from, None),
    )
    for g in law.derogations:
        if g.from_:
            yield g.from_, _Cause(f"{rid}/derogation:{g.id}", "from", g.from_, None)
        if g.until:
            yield g.until + DAY, _Cause(f"{rid}/derogation:{g.id}", "until", g.until, None)


def _source(law: RegimeFile, key: str) -> str | None:
    url = law.sources.get(key)
    return str(url) if url else None


def _request_changes(flow: FlowRequest) -> Iterator[tuple[dt.date, _Cause]]:
    """Dates the request states: clauses concluded after `as_of` count from that day (the only
    date of a flow request besides `as_of`; a test keeps it so)."""
    for node, _parent, node_id in walk(flow):
        safeguards = node.agreement.safeguards
        for name in ("scc", "idta", "uk_addendum"):
            tool = getattr(safeguards, name)
            if tool is not None and tool.concluded_on is not None:
                loc = f"request.{node_loc(node_id)}.agreement.safeguards.{name}.concluded_on"
                yield tool.concluded_on, _Cause(loc, "concluded_on", tool.concluded_on, None)


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
