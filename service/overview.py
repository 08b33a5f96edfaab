"""The compliance dashboard's overview (SPEC section 13), computed from the decision log's
summary tables, never from its responses: a page of it must answer in well under a second on
a log of a million decisions, so everything here reads the register heads (a few thousand
rows, `DecisionLog.heads`) and the counts per day (`DecisionLog.days`) and nothing else.

Pure: `build` takes the log and today's date and returns a frozen `Overview`; rendering it
(HTML, language) is the dashboard's business.

- vendors by decision: the latest decision per vendor and policy, counted per outcome;
- transfers by decision: the same for decisions asked without a vendor (by `reference`);
- open actions by actor: the planned actions of those latest decisions, grouped by who must
  act (a null actor is a controller the flow does not name);
- the timeline: decisions per day and outcome, every day of the window present;
- coming changes: the horizons (`changes_on`) of the latest decisions still ahead.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from service.decision_log import DecisionLog

OUTCOMES = ("allow", "conditions", "deny")
#: the role shown for an action whose actor is null: a controller the flow does not name
UNNAMED_ROLE = "controller"


@dataclass(frozen=True)
class Outcomes:
    """How many heads of one policy ended in each outcome, and which keys (vendor ids or
    references) they are, sorted, so the dashboard can link each count to its list."""

    counts: dict[str, int]
    keys: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class ActorActions:
    """The open actions one actor must take: `count` planned actions over every latest decision,
    and per action code the (kind, key) of the vendors and references it concerns."""

    actor: str | None
    actor_role: str
    count: int
    codes: dict[str, tuple[tuple[str, str], ...]]


class Day(NamedTuple):
    """One day of the timeline; a tuple, so `for day, counts in overview.timeline` reads it."""

    day: dt.date
    counts: dict[str, int]


@dataclass(frozen=True)
class Change:
    """A latest decision whose horizon lies ahead: on `changes_on` it will be decided otherwise
    than `decision` (its outcome now; the log keeps the date, not the outcome to come)."""

    kind: str
    key: str
    policy: str
    decision_id: str
    changes_on: dt.date
    decision: str


@dataclass(frozen=True)
class Overview:
    today: dt.date
    policy: str | None
    vendors_by_decision: dict[str, Outcomes]
    transfers_by_decision: dict[str, Outcomes]
    actions_by_actor: tuple[ActorActions, ...]
    timeline: tuple[Day, ...]
    coming_changes: tuple[Change, ...]


def build(
    log: DecisionLog, today: dt.date, policy: str | None = None, days: int = 30, coming: int = 20
) -> Overview:
    """The overview of one policy (or all), as of `today`: two reads of the log, the heads and
    the counts of the last `days` days; `coming` bounds the coming changes listed."""
    heads = log.heads(policy)
    first = today - dt.timedelta(days=days - 1)
    return Overview(
        today=today,
        policy=policy,
        vendors_by_decision=by_decision(h for h in heads if h["kind"] == "vendor"),
        transfers_by_decision=by_decision(h for h in heads if h["kind"] == "reference"),
        actions_by_actor=actions_by_actor(heads),
        timeline=timeline(log.days(first.isoformat(), policy), first, today),
        coming_changes=coming_changes(heads, today, coming),
    )


def by_decision(heads: Iterable[dict[str, Any]]) -> dict[str, Outcomes]:
    """Per policy (sorted), the heads counted per outcome with their keys: every outcome is
    present, also with a count of 0, so a chart's bars do not shift between policies."""
    keys: dict[str, dict[str, list[str]]] = defaultdict(lambda: {o: [] for o in OUTCOMES})
    for head in heads:
        keys[head["policy_id"]].setdefault(head["decision"], []).append(head["key"])
    return {
        policy: Outcomes(
            counts={o: len(found) for o, found in outcomes.items()},
            keys={o: tuple(sorted(found)) for o, found in outcomes.items()},
        )
        for policy, outcomes in sorted(keys.items())
    }


def actions_by_actor(heads: Iterable[dict[str, Any]]) -> tuple[ActorActions, ...]:
    """The open actions of the latest decisions grouped by who must act; most actions first
    (then by actor, the unnamed controller last among equals). A null actor is a controller the
    flow does not name, whatever role was stored with it, so all such actions form one group.
    The same vendor under two policies counts twice in `count` (two decisions to act on) but is
    listed once per code."""
    counts: dict[tuple[str | None, str], int] = defaultdict(int)
    concerns: dict[tuple[str | None, str], dict[str, set[tuple[str, str]]]] = defaultdict(
        lambda: defaultdict(set)
    )
    for head in heads:
        where = (head["kind"], head["key"])
        for actor, role, code in head["open_actions"]:
            group = (None, UNNAMED_ROLE) if actor is None else (actor, role or UNNAMED_ROLE)
            counts[group] += 1
            concerns[group][code].add(where)
    groups = sorted(counts, key=lambda g: (-counts[g], g[0] is None, g[0] or "", g[1]))
    return tuple(
        ActorActions(
            actor=actor,
            actor_role=role,
            count=counts[(actor, role)],
            codes={code: tuple(sorted(found)) for code, found in sorted(concerns[(actor, role)].items())},
        )
        for actor, role in groups
    )


def timeline(rows: Iterable[tuple[str, str, int]], first: dt.date, last: dt.date) -> tuple[Day, ...]:
    """Every day from `first` to `last`, each with a count per outcome, 0 where nothing was
    decided: a chart with gaps would hide the quiet days. Days outside the window are left out."""
    counts: dict[str, dict[str, int]] = {}
    for text, decision, count in rows:
        counts.setdefault(text, {})[decision] = count
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return tuple(Day(day, {**dict.fromkeys(OUTCOMES, 0), **counts.get(day.isoformat(), {})}) for day in days)


def coming_changes(heads: Iterable[dict[str, Any]], today: dt.date, limit: int) -> tuple[Change, ...]:
    """The latest decisions whose horizon is today or later, soonest first (then by kind, key
    and policy, so equal dates list stably), at most `limit`: what will flip next."""
    ahead = [h for h in heads if h["changes_on"] is not None and h["changes_on"] >= today.isoformat()]
    ahead.sort(key=lambda h: (h["changes_on"], h["kind"], h["key"], h["policy_id"]))
    return tuple(
        Change(
            kind=h["kind"],
            key=h["key"],
            policy=h["policy_id"],
            decision_id=h["decision_id"],
            changes_on=dt.date.fromisoformat(h["changes_on"]),
            decision=h["decision"],
        )
        for h in ahead[:limit]
    )
