"""The dashboard's scenarios page: pick or write a scenario, run a replay, see what flips.

The form starts exactly the job `POST /v1/replays` starts (`replays.start_job`), so the page
and the API cannot disagree; the job page reloads itself (a meta refresh, no script) until
the workers are done, then lists every logged decision that would change.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, redirect, request

from engine.errors import Problem
from engine.paths import SCENARIOS_DIR
from service.access import principal_name, requires
from service.dashboard.render import blueprint, link, page_lang, render
from service.dashboard.text import Words
from service.errors import ProblemError
from service.resources import replays
from service.state import current

#: the scenarios shipped with the project (`scenarios/*.json`)
SHIPPED = SCENARIOS_DIR
RECENT_JOBS = 10
CHANGES_SHOWN = 200
MAX_SCENARIO_TEXT = 20_000


def shipped() -> dict[str, dict[str, Any]]:
    """The shipped scenarios by file name (a non-editable install may ship none)."""
    found = {}
    for path in sorted(SHIPPED.glob("*.json")) if SHIPPED.is_dir() else []:
        found[path.name] = json.loads(path.read_text(encoding="utf-8"))
    return found


def _may_replay() -> bool:
    """Whether this visitor may start a replay (the form is shown only then)."""
    config = current().config
    if not config.access_control:
        return True
    name = principal_name()
    return any(t.name == name and t.allows("replay") for t in config.tokens)


def _form_page(status: int = 200, problems: list[Problem] | None = None, **form: Any) -> tuple[str, int]:
    jobs = replays.guarded(lambda: replays.store().recent(RECENT_JOBS))
    return render(
        "scenarios.html",
        Words(page_lang()).scenarios,
        "scenarios",
        status,
        shipped=shipped(),
        jobs=jobs,
        may_replay=_may_replay(),
        problems=problems or [],
        form=form,
    )


@blueprint.get("/scenarios")
@requires("read", session=True)
def scenarios_page() -> tuple[str, int]:
    return _form_page()


@blueprint.post("/scenarios")
@requires("replay", session=True)
def run_scenario() -> tuple[str, int] | Response:
    """Start the replay (CSRF checked before this runs); a bad scenario re-shows the form (422)."""
    chosen, text, as_of = (request.form.get(k, "").strip() for k in ("scenario", "own", "as_of"))
    form = {"scenario": chosen, "own": text, "as_of": as_of}
    try:
        payload: dict[str, Any] = {"scenario": _scenario(chosen, text)}
        if as_of:
            payload["as_of"] = as_of
        job = replays.start_job(payload)
    except ProblemError as exc:
        return _form_page(exc.status, list(exc.problems) or [Problem("scenario", exc.detail, "")], **form)
    return redirect(link("dashboard.replay_page", job_id=job.job_id), 303)  # type: ignore[return-value]


def _scenario(chosen: str, text: str) -> Any:
    if chosen:
        known = shipped()
        if chosen not in known:
            raise _bad("scenario", f"no shipped scenario {chosen!r}", "pick one of the list")
        return known[chosen]
    if not text:
        raise _bad("scenario", "pick a scenario or write one", "pick one of the list, or paste JSON")
    if len(text) > MAX_SCENARIO_TEXT:
        raise _bad("own", f"the scenario is longer than {MAX_SCENARIO_TEXT} characters", "shorten it")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            "own", f"the scenario is not JSON: {exc.msg} at line {exc.lineno}", "check the JSON"
        ) from None


def _bad(field: str, msg: str, hint: str) -> ProblemError:
    return ProblemError("invalid_request", msg, [Problem(field, msg, hint)])


@blueprint.get("/scenarios/<job_id>")
@requires("read", session=True)
def replay_page(job_id: str) -> tuple[str, int]:
    store = replays.store()
    job = replays.guarded(lambda: store.job(job_id))
    if job is None:
        what = f"no replay job {job_id!r}"
        raise ProblemError("not_found", what, [Problem("job_id", what, "start one on the scenarios page")])
    shown = replays.guarded(lambda: replays.view(store, job, 0, CHANGES_SHOWN))
    words = Words(page_lang())
    title = f"{words.replay}: {(job.params.scenario or {}).get('title') or job_id[:8]}"
    return render("replay.html", title, "scenarios", job=shown, running=job.state in ("queued", "running"))
