"""Replay's pure core (SPEC section 12): what a logged request becomes when it is decided again,
and how the two answers compare.

Nothing here touches the database, the environment or the clock: the store
(`replay_store`) hands rows in, the worker (`replay_worker`) calls the engine, and
these functions turn a logged row and a fresh decision into a tally and, when
something changed, one change record. Keeping it pure is what lets the table of
outcomes be tested without a log, and lets every worker, on any machine, count the
same way.

Comparison: the decision value, and the set of reasons, each reason being a
condition's, denial's or assumption's code with its legal basis. A message or a
party name that changes is not a change of the decision. A logged answer that
records only codes (the golden log, `golden` below) is compared at that precision.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.errors import RequestInvalid

#: the decision values, weakest first: moving right is tightening
RANK = {"allow": 0, "conditions": 1, "deny": 2}
#: the lists of a decision whose codes (and basis) count as its reasons
REASON_LISTS = ("conditions", "denials", "assumptions")
#: the summary's counters, in the order SPEC section 12 names them
COUNTERS = ("total", "unchanged", "tightened", "loosened", "reasons_changed", "errors")
#: the kinds a changed decision can have (`errors` counts kind `error`)
KINDS = ("tightened", "loosened", "reasons_changed", "error")

Reason = tuple[str, str, tuple[str, ...]]  # (list, code, basis)


@dataclass(frozen=True)
class Params:
    """What a replay job re-decides, with which engine, at which dates; stored with the job
    so that every worker and a resumed run decide exactly the same way."""

    since: str | None = None  # decided_at >= since (the log's own time format)
    until: str | None = None  # decided_at <= until
    as_of: str | None = None  # every request at this date; None: each at its logged as_of
    scenario: dict[str, Any] | None = None
    policy_dirs: tuple[str, ...] = ()  # extra policy directories, absolute
    data_dir: str | None = None  # the reference data, absolute; None: the shipped one
    batch_size: int = 500

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Params:
        raw = json.loads(text)
        raw["policy_dirs"] = tuple(raw.get("policy_dirs") or ())
        return cls(**raw)


@dataclass(frozen=True)
class Logged:
    """One row of the decision log, as the store reads it."""

    seq: int
    decision_id: str
    request: str
    response: str
    reference: str | None = None
    labels: str | None = None
    vendor_id: str | None = None
    vendor_revision: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What replay compares of one answer."""

    decision: str
    reasons: frozenset[Reason]
    #: True for an answer that records only condition and denial codes (the golden log)
    coarse: bool = False

    @property
    def codes(self) -> list[str]:
        return sorted({code for _, code, _ in self.reasons})

    def as_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "codes": self.codes}


@dataclass
class Tally:
    """The summary's counters for one batch, or summed over a job."""

    total: int = 0
    unchanged: int = 0
    tightened: int = 0
    loosened: int = 0
    reasons_changed: int = 0
    errors: int = 0

    def count(self, kind: str) -> None:
        self.total += 1
        name = "errors" if kind == "error" else kind
        setattr(self, name, getattr(self, name) + 1)

    def add(self, other: Tally) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTERS}

    def crosses(self, fail_on: str | None) -> bool:
        """Whether `--fail-on` is crossed. An error always counts: a decision that could not be
        taken again is not known to be unchanged."""
        if fail_on == "changed":
            return self.total > self.unchanged
        if fail_on == "tightened":
            return self.tightened + self.errors > 0
        return False


@dataclass
class Redecided:
    """One logged decision taken again: its kind and, unless unchanged, its change record."""

    kind: str
    change: dict[str, Any] | None = field(default=None)


class Unreadable(ValueError):
    """A logged row that cannot be decided again (not JSON, no date): counted as an error."""


# ---------------------------------------------------------------- the request decided again


def payload(request: dict[str, Any], logged_as_of: str | None, params: Params) -> dict[str, Any]:
    """The logged flow request as it is decided again: at the job's date (or its logged one),
    never a dry run, under the job's scenario; without `horizon`, which replay does not compare
    and which would cost a decision per date that the reference data changes."""
    if not isinstance(request, dict):
        raise Unreadable("the logged request is not a JSON object")
    out = {k: v for k, v in request.items() if k not in ("dry_run", "horizon")}
    as_of = params.as_of or logged_as_of or request.get("as_of")
    if not as_of:
        raise Unreadable("the logged answer has no as_of")
    out["as_of"] = as_of
    if params.scenario is not None:
        out["scenario"] = params.scenario
    return out


def parse_row(row: Logged) -> tuple[dict[str, Any], dict[str, Any]]:
    """The logged request and answer as JSON objects, or Unreadable."""
    try:
        request, answer = json.loads(row.request), json.loads(row.response)
    except ValueError as exc:
        raise Unreadable(f"the logged row is not JSON: {exc}") from None
    if not isinstance(answer, dict) or answer.get("decision") not in RANK:
        raise Unreadable("the logged answer has no decision")
    return request, answer


def redecide(engine: Any, row: Logged, params: Params) -> Redecided:
    """Decide one logged request again with `engine` and compare. A request the engine now
    refuses (RequestInvalid) is an error with its problems; any other exception is the
    caller's to handle: an internal error must fail the job, never count as unchanged."""
    try:
        request, answer = parse_row(row)
        before = outcome(answer)
        flow = payload(request, answer.get("as_of"), params)
    except Unreadable as exc:
        return error_change(row, None, [], str(exc))
    try:
        decision = engine.evaluate(flow)
    except RequestInvalid as exc:
        return error_change(row, before, [p.as_dict() for p in exc.problems], exc.detail)
    return compared(row, before, decision_outcome(decision, before))


# ---------------------------------------------------------------- comparing


def outcome(answer: dict[str, Any]) -> Outcome:
    """The decision and reasons of a logged answer, or Unreadable."""
    try:
        return _outcome(answer)
    except (KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(f"the logged answer's reasons cannot be read: {exc!r}") from None


def _outcome(answer: dict[str, Any]) -> Outcome:
    golden = answer.get("golden")
    if isinstance(golden, dict):
        return Outcome(answer["decision"], frozenset(("codes", c, ()) for c in golden.get("codes", [])), True)
    reasons = frozenset(
        (name, item["code"], tuple(item.get("basis") or ()))
        for name in REASON_LISTS
        for item in answer.get(name) or ()
    )
    return Outcome(answer["decision"], reasons)


def decision_outcome(decision: Any, like: Outcome) -> Outcome:
    """A fresh engine `Decision` as an Outcome, at the precision of the logged one (`like`)."""
    if like.coarse:
        codes = {f.code for f in (*decision.conditions, *decision.denials)}
        return Outcome(decision.decision, frozenset(("codes", c, ()) for c in codes), True)
    reasons = frozenset(
        (name, item.code, tuple(getattr(item, "basis", None) or ()))
        for name in REASON_LISTS
        for item in getattr(decision, name)
    )
    return Outcome(decision.decision, reasons)


def classify(before: Outcome, after: Outcome) -> str:
    """unchanged, tightened (allow to conditions or deny, conditions to deny), loosened, or
    reasons_changed (the same decision for other codes or another basis)."""
    step = RANK[after.decision] - RANK[before.decision]
    if step > 0:
        return "tightened"
    if step < 0:
        return "loosened"
    return "unchanged" if before.reasons == after.reasons else "reasons_changed"


def change(row: Logged, kind: str, before: Outcome | None, after: Outcome | None) -> dict[str, Any]:
    """The change record of one decision: who it was, what it was and what it would be."""
    before_codes = set(before.codes) if before else set()
    after_codes = set(after.codes) if after else set()
    record: dict[str, Any] = {
        "decision_id": row.decision_id,
        "change": kind,
        "reference": row.reference,
        "labels": json.loads(row.labels) if row.labels else {},
        "vendor": _vendor(row),
        "before": before.as_json() if before else None,
        "after": after.as_json() if after else None,
        "codes_added": sorted(after_codes - before_codes) if after else [],
        "codes_removed": sorted(before_codes - after_codes) if after else [],
    }
    if before and after:
        record["basis_changed"] = _basis_changed(before.reasons, after.reasons)
    return record


def error_change(
    row: Logged, before: Outcome | None, problems: Iterable[dict[str, Any]], detail: str
) -> Redecided:
    """A decision the new engine refuses (or a row that cannot be read): counted under `errors`."""
    record = change(row, "error", before, None)
    record["error"] = {"detail": detail, "errors": list(problems)}
    return Redecided("error", record)


def compared(row: Logged, before: Outcome, after: Outcome) -> Redecided:
    kind = classify(before, after)
    return Redecided(kind, None if kind == "unchanged" else change(row, kind, before, after))


def _basis_changed(before: frozenset[Reason], after: frozenset[Reason]) -> list[str]:
    """Codes present before and after whose legal basis differs."""
    was, now = _bases(before), _bases(after)
    return sorted({key[1] for key, bases in now.items() if key in was and was[key] != bases})


def _bases(reasons: frozenset[Reason]) -> dict[tuple[str, str], set[tuple[str, ...]]]:
    out: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    for name, code, basis in reasons:
        out.setdefault((name, code), set()).add(basis)
    return out


def _vendor(row: Logged) -> dict[str, Any] | None:
    if row.vendor_id is None:
        return None
    revision = row.vendor_revision
    return {"id": row.vendor_id, "revision": int(revision) if revision and revision.isdigit() else revision}
