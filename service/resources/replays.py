"""`/v1/replays`: start a replay of the decision log, and read its state, summary and changes.

The job lives in the log's database; its workers are detached `doorgifte replay-worker`
processes, so the service's own engine is never used from another thread and a restart
of the service loses no finished batch. A job over no logged decisions is done at once,
without a worker. Candidate policy or reference-data directories may be named only below
the directories an operator lists in `DOORGIFTE_REPLAY_PATHS`, and at most
`DOORGIFTE_REPLAY_MAX_RUNNING` jobs run at once: a caller cannot make the service read
arbitrary paths or start unbounded processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from engine.errors import Problem, RequestInvalid
from engine.request_errors import pydantic_problems
from service import body, params
from service.access import requires
from service.config import Config
from service.decision_log import LogUnavailable, normalise_time, until_time
from service.errors import ProblemError, internal_error, invalid_field
from service.openapi import describe
from service.replay import Params
from service.replay_store import Job, ReplayStore
from service.replay_worker import start_detached
from service.schemas import ReplayJob, ReplayRequest
from service.state import current

blueprint = Blueprint("replays", __name__)
#: results per page of `GET /v1/replays/{id}`
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
GDPR_APPLIES_FROM = "2018-05-25"


@blueprint.post("/v1/replays")
@requires("replay")
@describe(
    "Start a replay",
    {202: ReplayJob},
    body=ReplayRequest,
    errors=(
        "malformed_json",
        "body_too_large",
        "unsupported_media_type",
        "invalid_request",
        "decision_log_unavailable",
        "not_ready",
    ),
)
def start() -> tuple[Response, int, dict[str, str]]:
    """Decide the logged requests again (all, or those logged `since`/`until`), each at its
    logged date or at `as_of`, optionally under a `scenario` or with candidate policies or
    reference data, and report what would change. Answers 202 with the job and its
    `Location`; the decision log itself is never written."""
    params.check_args(())
    job = start_job(body.read_json(request, current().config.max_body))
    location = f"/v1/replays/{job.job_id}"
    return jsonify(guarded(lambda: view(store(), job, 0, DEFAULT_LIMIT))), 202, {"Location": location}


def start_job(payload: Any) -> Job:
    """A replay job for a request body (also the dashboard's scenario form), with its workers."""
    config = current().config
    ask = _ask(payload)
    job_params = _params(ask, config)
    # against the service's own reference data; with candidate directories the workers check it
    if ask.scenario is not None and not (ask.policy_path or ask.data_path):
        current().decider.check_scenario(job_params.scenario)
    jobs = store()
    return guarded(lambda: _create(jobs, job_params, ask.jobs, config))  # type: ignore[no-any-return]


@blueprint.get("/v1/replays/<job_id>")
@requires("read")
@describe(
    "A replay job",
    {200: ReplayJob},
    query=("limit", "cursor"),
    errors=("not_found", "invalid_request", "decision_log_unavailable"),
)
def get(job_id: str) -> Response:
    """The job's state (queued, running, done, failed), progress, summary once done, and its
    changed decisions in log order, a page at a time (`limit`, `cursor`)."""
    params.check_args(("limit", "cursor"))
    limit = _number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    cursor = _number("cursor", 0, 0, 2**62)
    jobs = store()
    job = guarded(lambda: jobs.job(job_id))
    if job is None:
        what = f"no replay job {job_id!r}"
        raise ProblemError("not_found", what, [Problem("job_id", what, "POST /v1/replays starts one")])
    return jsonify(guarded(lambda: view(jobs, job, cursor, limit)))


# ----------------------------------------------------------------- the job


def _create(store: ReplayStore, job_params: Params, jobs: int, config: Config) -> Job:
    """The job, and its workers unless there is nothing to decide (then it is done at once)."""
    if store.active_jobs() >= config.replay_max_running:
        detail = f"{config.replay_max_running} replay jobs are running already"
        problem = Problem("(service)", detail, "retry when one is done")
        raise ProblemError("not_ready", detail, [problem], {"Retry-After": "10"})
    job = store.create(job_params)
    if store.is_empty(job):
        return store.plan(job.job_id)
    try:
        start_detached(job.job_id, jobs, {**os.environ, "DOORGIFTE_DB": config.db})
    except OSError as exc:  # no worker can start: the job must not wait for one forever
        store.fail(job.job_id, f"the worker processes could not be started: {exc}")
        raise internal_error(exc, "cannot start replay workers") from None
    return job


def view(store: ReplayStore, job: Job, cursor: int, limit: int) -> dict[str, Any]:
    """The job as `GET /v1/replays/{id}` answers it."""
    results, more = store.changes_page(job.job_id, cursor, limit)
    p, own = job.params, _service_params(current().config)
    return {
        "id": job.job_id,
        "state": job.state,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "parameters": {
            "since": p.since,
            "until": p.until,
            "as_of": p.as_of,
            "as_logged": p.as_of is None,
            "scenario": p.scenario,
            "candidate": (p.policy_dirs, p.data_dir) != (own.policy_dirs, own.data_dir),
        },
        "progress": store.progress(job),
        "summary": job.summary,
        "error": job.error,
        "results": results,
        "next_cursor": str(more) if more is not None else None,
    }


# ----------------------------------------------------------------- the request


def _ask(payload: Any) -> ReplayRequest:
    try:
        return ReplayRequest.model_validate(payload)
    except ValidationError as exc:
        problems = [_hinted(p) for p in pydantic_problems(exc)]
        raise ProblemError.from_invalid(RequestInvalid(problems)) from None


def _hinted(problem: Problem) -> Problem:
    """An unknown field of the replay request is hinted with the replay request's own fields."""
    if problem.msg.startswith("unknown field") and "." not in problem.loc and "[" not in problem.loc:
        return Problem(problem.loc, problem.msg, "known fields: " + ", ".join(ReplayRequest.model_fields))
    return problem


def _params(ask: ReplayRequest, config: Config) -> Params:
    if ask.as_of is not None and ask.as_logged:
        raise invalid_field("as_logged", "as_of and as_logged: true exclude each other", "give one of them")
    if ask.as_of is not None and ask.as_of.isoformat() < GDPR_APPLIES_FROM:
        raise invalid_field("as_of", f"as_of {ask.as_of} is before 2018-05-25", "use a date from 2018-05-25")
    base = _service_params(config)
    dirs = [_candidate(f"policy_path[{i}]", raw, config) for i, raw in enumerate(ask.policy_path)]
    data = _candidate("data_path", ask.data_path, config) if ask.data_path else base.data_dir
    scenario = (
        ask.scenario.model_dump(mode="json", by_alias=True, exclude_unset=True) if ask.scenario else None
    )
    return Params(
        since=_time("since", ask.since, normalise_time),
        until=_time("until", ask.until, until_time),
        as_of=ask.as_of.isoformat() if ask.as_of else None,
        scenario=scenario,
        policy_dirs=(*base.policy_dirs, *dirs),
        data_dir=data,
    )


def _service_params(config: Config) -> Params:
    """The service's own policies and reference data, as a job names them."""
    data = config.data_path
    return Params(
        policy_dirs=tuple(str(Path(d).resolve()) for d in config.policy_path),
        data_dir=str(Path(data).resolve()) if data else None,
    )


def _candidate(loc: str, raw: str, config: Config) -> str:
    """An existing directory below one of DOORGIFTE_REPLAY_PATHS, resolved (links followed)."""
    if not config.replay_paths:
        raise invalid_field(
            loc,
            "candidate directories are not allowed here: DOORGIFTE_REPLAY_PATHS is not set",
            "the operator lists the directories replays may read in DOORGIFTE_REPLAY_PATHS",
        )
    path = Path(raw).resolve()
    roots = [Path(r).resolve() for r in config.replay_paths]
    if not path.is_dir() or not any(path == r or path.is_relative_to(r) for r in roots):
        raise invalid_field(
            loc, f"{raw!r} is not a directory below DOORGIFTE_REPLAY_PATHS", "a directory the operator listed"
        )
    return str(path)


def _time(loc: str, raw: str | None, parse: Callable[[str], str]) -> str | None:
    if raw is None:
        return None
    try:
        return parse(raw)
    except ValueError:
        raise invalid_field(
            loc, f"{loc} {raw!r} is not an ISO 8601 date or time", "e.g. 2026-11-01 or 2026-11-01T12:00:00Z"
        ) from None


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_field(
            name, f"{name} {raw!r} is not a whole number from {low} to {high}", f"e.g. {default}"
        )
    return int(raw)


def store() -> ReplayStore:
    """One store per app (it creates its tables once), on the app's decision log."""
    cache = current().cache
    if "replays" not in cache:
        cache["replays"] = ReplayStore(current().log)
    store: ReplayStore = cache["replays"]
    return store


def guarded(action: Any) -> Any:
    try:
        return action()
    except LogUnavailable as exc:
        raise current().decider.unavailable(exc) from None
