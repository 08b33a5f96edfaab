"""Decide flows, within a time limit, and log every decision before it is answered.

The HTTP layer hands over parsed JSON; this module calls the engine, turns its
errors into problems (422 for the caller's mistakes, 500 for ours, never an
allow), writes the answered decisions to the decision log in one transaction,
and only then counts them in the metrics.

The time limit (`DOORGIFTE_EVAL_TIMEOUT`) is enforced without ever interrupting
the engine: the engine evaluates one flow at a time behind a lock, and the wait
for that lock is bounded by the time left, then the clock is checked between
flows and after the last one. One flow is bounded by the engine's own chain
limits (`DOORGIFTE_MAX_DEPTH`, `DOORGIFTE_MAX_NODES`: depth 10, 200 nodes by
default), so a request that runs out of time stops at the
next flow boundary and answers 503 `evaluation_timeout`, nothing answered and
nothing logged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from engine.api import Engine
from engine.decision import Decision, VendorRef
from engine.errors import Problem, RequestInvalid
from service.decision_log import (
    DecisionLog,
    LogEntry,
    LogUnavailable,
    now,
    open_actions_of,
    timed_write,
)
from service.errors import ProblemError, internal_error
from service.lookup import today_utc
from service.metrics import Metrics

if TYPE_CHECKING:  # the pool imports this module, not the other way round
    from service.batch_pool import BatchPool

log = logging.getLogger("doorgifte.decisions")
T = TypeVar("T")


@dataclass
class Answered:
    """One flow of a request: its decision (status 200) or its problem."""

    index: int
    status: int
    decision: Decision | None = None
    error: dict[str, Any] | None = None
    #: the decision as JSON text, made once: the log stores it and a batch answer embeds it
    text: str = ""

    #: the flow's own `reference`, echoed even when the flow was refused
    reference: str | None = None

    def as_result(self) -> dict[str, Any]:
        """One entry of a batch answer: index, status, then the decision's fields or `error`."""
        head: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.decision is not None:
            return {**head, **self.decision.model_dump(mode="json")}
        if self.reference is not None:
            head["reference"] = self.reference
        return {**head, "error": self.error}

    def as_result_json(self) -> str:
        """`as_result()` as JSON text, embedding the decision's text instead of encoding it again."""
        if self.decision is None:
            return json.dumps(self.as_result())  # ASCII escapes: valid whatever a problem echoes
        return f'{{"index":{self.index},"status":{self.status},{self.text[1:]}'


class Decider:
    #: helper processes that decide a share of a large batch (service/batch_pool.py); None: none
    pool: BatchPool | None = None

    def __init__(self, engine: Engine, decision_log: DecisionLog, metrics: Metrics, timeout: float):
        self.engine = engine
        self.log = decision_log
        self.metrics = metrics
        self.timeout = timeout
        self._lock = threading.Lock()

    # ------------------------------------------------------------ one flow

    def decide(
        self,
        payload: Any,
        request_id: str,
        vendor: dict[str, Any] | None = None,
        token_name: str | None = None,
    ) -> tuple[Decision, str]:
        """The decision for one flow and its JSON text, logged unless it is a dry run; or a
        ProblemError. `vendor`: the vendor revision the flow was built from; `token_name`: the
        bearer token's name the request came with, logged with the decision."""
        deadline = time.monotonic() + self.timeout
        try:
            decision = self._decision(payload, today_utc(), deadline)
        except RequestInvalid as exc:
            raise ProblemError.from_invalid(exc) from None
        self._check_deadline(deadline, 1, 1)
        if vendor is not None:
            decision.vendor = VendorRef.model_validate(vendor)
        text = decision.model_dump_json()
        if decision.logged:
            self._log([self._entry(payload, decision, text, request_id, token_name)])
        self.metrics.answered(decision)
        return decision, text

    # ------------------------------------------------------------ a batch

    def decide_batch(
        self, flows: list[Any], request_id: str, token_name: str | None = None
    ) -> list[Answered]:
        """Every flow answered on its own; the good ones logged together, before answering."""
        deadline = time.monotonic() + self.timeout
        today = today_utc()
        answers = self.pool.decide(self, flows, today, deadline) if self.pool is not None else None
        if answers is None:  # no helper process takes a share: all of it in this process
            answers = self.answer_flows(flows, range(len(flows)), today, deadline)
        self._check_deadline(deadline, len(flows), len(flows))
        decided = [(a, a.decision) for a in answers if a.decision is not None]
        for answer, decision in decided:
            if not answer.text:  # a helper's decisions come with their text
                answer.text = decision.model_dump_json()
        kept = [(a, d) for a, d in decided if d.logged]
        self._log([self._entry(flows[a.index], d, a.text, request_id, token_name) for a, d in kept])
        for _, decision in decided:
            self.metrics.answered(decision)
        return answers

    def answer_flows(
        self, flows: list[Any], indexes: range, today: dt.date, deadline: float
    ) -> list[Answered]:
        """The flows at `indexes` answered in this process, the clock checked before each."""
        answers = []
        for index in indexes:
            self._check_deadline(deadline, index, len(flows))
            answers.append(self._answer(index, flows[index], today, deadline))
        return answers

    def timed_out(self, done: int, total: int) -> ProblemError:
        """The 503 of a batch that ran out of time with `done` of its `total` flows evaluated."""
        return self._timeout(f"{done} of {total} flows were evaluated")

    def what_if(self, payload: Any) -> Decision:
        """A decision that is never logged (a review compares two of them)."""
        deadline = time.monotonic() + self.timeout
        try:
            return self._evaluate(self.engine.parse(payload), today_utc(), deadline)
        except RequestInvalid as exc:
            raise ProblemError.from_invalid(exc) from None

    def _answer(self, index: int, payload: Any, today: dt.date, deadline: float) -> Answered:
        try:
            return Answered(index, 200, decision=self._decision(payload, today, deadline))
        except RequestInvalid as exc:
            problem = ProblemError.from_invalid(exc)
        except ProblemError as exc:
            if exc.code == "evaluation_timeout":
                raise
            problem = exc
        reference = payload.get("reference") if isinstance(payload, dict) else None
        echoed = reference if isinstance(reference, str) and len(reference) <= 200 else None
        return Answered(index, problem.status, error=problem.body(), reference=echoed)

    def check_scenario(self, scenario: Any) -> None:
        """A scenario given apart from a flow (a batch's, a replay job's) checked against the
        reference data: its problems are the caller's 422."""
        try:
            self.engine.check_scenario(scenario)
        except RequestInvalid as exc:
            raise ProblemError.from_invalid(exc) from None

    def horizon_of(self, entry: LogEntry) -> dt.date | None:
        """The horizon date of a logged decision that was answered without one (the transfer
        register shows it for every row): its request decided again, unlogged, at its logged
        date with `horizon`. None when nothing changes within ten years, or when today's rule
        base no longer takes the request (the register then has no date to show)."""
        request, answer = json.loads(entry.request), json.loads(entry.response)
        if not isinstance(request, dict) or not isinstance(answer, dict) or request.get("horizon") is True:
            return None  # asked for with the decision, and none within ten years: null is the answer
        flow = {**request, "as_of": answer.get("as_of"), "dry_run": True}
        try:
            found = self._locked(self.engine.next_change, flow, today_utc(), time.monotonic() + self.timeout)
        except RequestInvalid:
            return None
        return found.changes_on if found else None

    # ------------------------------------------------------------ the log

    def read(self, decision_id: str) -> LogEntry | None:
        try:
            return self.log.get(decision_id)
        except LogUnavailable as exc:
            raise self.unavailable(exc, "read", 0) from None

    # ------------------------------------------------------------ helpers

    def _decision(self, payload: Any, today: dt.date, deadline: float) -> Decision:
        """A flow decided, marked `logged` unless it is a dry run or asks about a scenario (the
        caller logs it): a hypothetical world never enters the log of record."""
        flow = self.engine.parse(payload)
        decision = self._evaluate(flow, today, deadline)
        decision.logged = not flow.dry_run and flow.scenario is None
        return decision

    def _evaluate(self, payload: Any, today: dt.date, deadline: float) -> Decision:
        """Evaluate behind the lock, waiting for it no longer than the time left."""
        return self._locked(self.engine.evaluate, payload, today, deadline)

    def _locked(self, call: Callable[..., T], payload: Any, today: dt.date, deadline: float) -> T:
        """An engine call behind the lock, waiting for it no longer than the time left."""
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
            raise self._timeout("the engine stayed busy")
        try:
            return call(payload, today=today)
        except RequestInvalid:
            raise
        except Exception as exc:  # EngineError or a bug: fail closed with a 500, never an allow
            raise internal_error(exc, "the engine could not decide a flow") from None
        finally:
            self._lock.release()

    def _check_deadline(self, deadline: float, done: int, total: int) -> None:
        if time.monotonic() > deadline:
            raise self._timeout(f"{done} of {total} flows were evaluated")

    def _timeout(self, what: str) -> ProblemError:
        detail = (
            f"the evaluation took longer than the limit of {self.timeout:g} s ({what}); nothing was decided"
        )
        hint = "retry later, or send fewer flows per request"
        return ProblemError(
            "evaluation_timeout", detail, [Problem("(body)", detail, hint)], {"Retry-After": "1"}
        )

    def _entry(
        self,
        payload: Any,
        decision: Decision,
        text: str,
        request_id: str,
        token_name: str | None = None,
    ) -> LogEntry:
        """The log row, with the summary columns a log query reads instead of the response
        (SPEC section 13): root recipient, counts, the horizon's date, the vendor's list and the
        planned actions' actors and codes (the dashboard's open actions)."""
        horizon = decision.horizon
        return LogEntry(
            decision_id=decision.decision_id,
            decided_at=now(),
            request_id=request_id,
            policy_id=decision.policy.id,
            policy_version=decision.policy.version,
            reference_version=decision.reference_data.version,
            decision=decision.decision,
            request=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            response=text,
            reference=decision.reference,
            vendor_id=decision.vendor.id if decision.vendor else None,
            vendor_revision=str(decision.vendor.revision) if decision.vendor else None,
            labels=json.dumps(decision.labels, ensure_ascii=False, sort_keys=True)
            if decision.labels
            else None,
            recipient=decision.hops[0].recipient if decision.hops else None,
            conditions_count=len(decision.conditions),
            denials_count=len(decision.denials),
            changes_on=horizon.changes_on.isoformat() if horizon is not None else None,
            vendor_list_version=decision.vendor.list_version if decision.vendor else None,
            token_name=token_name,
            open_actions=open_actions_of(decision.actions),
        )

    def _log(self, entries: list[LogEntry]) -> None:
        histogram = self.metrics.log_writes.labels(self.log.backend)
        try:
            timed_write(self.log, entries, histogram.observe)
        except LogUnavailable as exc:
            self.metrics.log_failures.labels(self.log.backend).inc()
            raise self.unavailable(exc, "write", len(entries)) from None

    def unavailable(self, exc: LogUnavailable, action: str = "read", count: int = 0) -> ProblemError:
        """The 503 problem; the cause (paths, server names) goes to the log, not to the caller."""
        log.error(
            "decision log unavailable",
            extra={"fields": {"action": action, "error": str(exc), "decisions": count}},
        )
        if action == "write":
            detail = "the decision could not be written to the decision log, so it is not answered"
        else:
            detail = "the decision log cannot be read right now"
        hint = "retry later; the operator sees the cause in GET /readyz and the service log"
        return ProblemError(
            "decision_log_unavailable", detail, [Problem("(service)", detail, hint)], {"Retry-After": "5"}
        )
