"""`doorgifte replay` and `doorgifte replay-worker` (SPEC section 12), and the golden log.

`replay` creates a job in the log's database (or, with `--resume JOB`, runs a killed
one again), decides its batches in this process (`--jobs 1`) or in N spawned worker
processes, and meanwhile writes every changed decision in log order as soon as the
batches before it are done (text: one line each; json: the `changes` array, streamed,
then the summary), with a progress bar on a terminal or a plain line every few seconds
otherwise. Exit 0 when nothing crosses `--fail-on`, 10 when something does, 2 for
usage or invalid input (a scenario the data does not know included), 1 when the job
failed or could not run.

`replay-worker JOB` joins a job: the HTTP service starts these, and on PostgreSQL
another machine can add itself to a running job.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from engine.errors import LoadError
from service.config import Config, is_postgres_url
from service.decision_log import (
    DecisionLog,
    LogEntry,
    LogUnavailable,
    actions_of_response,
    normalise_time,
    now,
    open_actions_text,
    open_log,
    until_time,
)
from service.replay import Params, Tally
from service.replay_store import Job, ReplayStore
from service.replay_worker import ScenarioInvalid, build_engine, check_scenario, start_processes, work

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_CROSSED = 0, 1, 2, 10
#: seconds between two looks at the job's progress in the database
POLL = 0.2
#: seconds between two plain progress lines (stderr not a terminal)
PLAIN_EVERY = 5.0
#: the options a resumed job takes from its stored parameters instead
JOB_OPTIONS = ("since", "until", "as_of", "as_logged", "scenario", "policy_path", "data_path")


def add_parser(sub: Any) -> None:
    from service.commands import positive
    from service.lookup import date_argument

    help = "decide logged requests again and report what would change (exit 0, 10, 2 or 1)"
    p = sub.add_parser("replay", help=help, description=help)
    p.set_defaults(func=cmd_replay)
    p.add_argument("--since", type=_bound(normalise_time), help="only decisions logged at or after this time")
    p.add_argument("--until", type=_bound(until_time), help="... at or before this time (a date: that day)")
    p.add_argument(
        "--policy-path", type=Path, action="append", default=[], metavar="DIR", help="add policies"
    )
    p.add_argument("--data-path", type=Path, metavar="DIR", help="reference data instead of adequacy_data/")
    p.add_argument("--scenario", type=Path, metavar="FILE", help="a scenario (JSON) to decide under")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--as-of", type=date_argument, help="decide every request at this date")
    when.add_argument("--as-logged", action="store_true", help="each at its logged date (the default)")
    p.add_argument("--jobs", type=positive, default=1, help="worker processes (default 1: this one)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--fail-on", choices=("tightened", "changed"), help="exit 10 when this happened")
    p.add_argument("--db", help="a SQLite path or postgresql:// URL (default: DOORGIFTE_DB)")
    p.add_argument("--resume", metavar="JOB_ID", help="run a job again whose workers were killed")

    help = "join a replay job as one more worker (started by the service, or on another machine)"
    w = sub.add_parser("replay-worker", help=help, description=help)
    w.set_defaults(func=cmd_replay_worker)
    w.add_argument("job_id", metavar="JOB_ID")
    w.add_argument("--db", help="a SQLite path or postgresql:// URL (default: DOORGIFTE_DB)")


def _bound(parse: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse type for an ISO 8601 date or time (naive: UTC)."""

    def parsed(text: str) -> str:
        try:
            return parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time") from None

    return parsed


def _err(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _existing_log(db: str, command: str) -> DecisionLog | None:
    """The log `--db` (or DOORGIFTE_DB) names, or None after saying that there is none: replay
    reads a log, it never starts an empty one."""
    if not is_postgres_url(db) and not Path(db).is_file():
        _err(f"doorgifte {command}: no decision log at {db}")
        return None
    return open_log(db)


# ---------------------------------------------------------------- replay


def cmd_replay(args: argparse.Namespace, config: Config) -> int:
    db = args.db or config.db
    log = _existing_log(db, "replay")
    if log is None:
        return EXIT_USAGE
    try:
        prepared = _resume(args, config, ReplayStore(log)) if args.resume else _new(args, config, log)
        if isinstance(prepared, int):
            return prepared
        store, job, engine = prepared
        _err(f"replay {job.job_id} (resume with doorgifte replay --resume {job.job_id})")
        return _run(args, db, store, store.plan(job.job_id), engine)
    except LogUnavailable as exc:
        _err(f"doorgifte replay: {exc}")
        return EXIT_INTERNAL
    finally:
        log.close()


def _new(args: argparse.Namespace, config: Config, log: Any) -> tuple[ReplayStore, Job, Any] | int:
    """A new job from the options, after the engine and the scenario proved usable."""
    for path in [*args.policy_path, *([args.data_path] if args.data_path else [])]:
        if not path.is_dir():
            _err(f"doorgifte replay: {path} is not a directory")
            return EXIT_USAGE
    scenario = _scenario(args.scenario) if args.scenario else None
    if isinstance(scenario, int):
        return scenario
    data = args.data_path or config.data_path
    params = Params(
        since=args.since,
        until=args.until,
        as_of=args.as_of.isoformat() if args.as_of else None,
        scenario=scenario,
        policy_dirs=tuple(str(p.resolve()) for p in [*config.policy_path, *args.policy_path]),
        data_dir=str(data.resolve()) if data else None,
    )
    engine = _engine(params, config)
    if isinstance(engine, int):
        return engine
    store = ReplayStore(log)
    return store, store.create(params), engine


def _scenario(path: Path) -> dict[str, Any] | int:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _err(f"doorgifte replay: cannot read the scenario {path}: {exc}")
        return EXIT_USAGE
    if not isinstance(value, dict):
        _err(f"doorgifte replay: the scenario {path} is not a JSON object")
        return EXIT_USAGE
    return value


def _engine(params: Params, config: Config) -> Any:
    """The job's engine with its scenario checked; EXIT_USAGE after reporting the problems."""
    try:
        engine = build_engine(params, config)
        check_scenario(engine, params)
    except LoadError as exc:
        _err(
            *(str(p) for p in exc.problems), "doorgifte replay: the policies or reference data cannot be used"
        )
        return EXIT_USAGE
    except ScenarioInvalid as exc:
        lines = [f"  {p.loc}: {p.msg}" + (f" ({p.hint})" if p.hint else "") for p in exc.problems]
        _err("doorgifte replay: the scenario is invalid:", *lines)
        return EXIT_USAGE
    return engine


def _resume(
    args: argparse.Namespace, config: Config, store: ReplayStore
) -> tuple[ReplayStore, Job, Any] | int:
    given = [name for name in JOB_OPTIONS if getattr(args, name) not in (None, False, [])]
    if given:
        _err(f"doorgifte replay: --resume takes the job's own parameters, not --{given[0].replace('_', '-')}")
        return EXIT_USAGE
    job = store.job(args.resume)
    if job is None:
        _err(f"doorgifte replay: no replay job {args.resume!r} in this log")
        return EXIT_USAGE
    engine = None if job.state == "done" else _engine(job.params, config)
    if isinstance(engine, int):
        return engine
    store.resume(job.job_id)
    return store, job, engine


def _run(args: argparse.Namespace, db: str, store: ReplayStore, job: Job, engine: Any) -> int:
    out = JsonOut(sys.stdout) if args.format == "json" else TextOut(sys.stdout)
    out.begin(job.job_id)
    monitor = Monitor(store, job, out, Progress(store.progress(job), sys.stderr))
    try:
        if job.state != "done" and args.jobs > 1:
            _processes(db, store, job.job_id, args.jobs, monitor)
        if job.state != "done":
            _finish(store, job.job_id, engine, monitor)
    except KeyboardInterrupt:
        _err(f"doorgifte replay: interrupted; run it again with --resume {job.job_id}")
        return EXIT_INTERNAL
    except LogUnavailable:
        raise
    except Exception as exc:  # work() failed the job with it; the report below says so
        _err(f"doorgifte replay: {type(exc).__name__}: {exc}")
    finished = monitor.close()
    out.end(finished)
    if finished.state != "done":
        _err(f"doorgifte replay: the job {finished.state}: {finished.error or 'no error recorded'}")
        return EXIT_INTERNAL
    return EXIT_CROSSED if Tally(**(finished.summary or {})).crosses(args.fail_on) else EXIT_OK


def _processes(db: str, store: ReplayStore, job_id: str, count: int, monitor: Monitor) -> None:
    """N worker processes, watched: the batches of one that dies are given back at once."""
    running = start_processes(db, job_id, count)
    try:
        while running:
            monitor.tick()
            time.sleep(POLL)
            for process, claim in [r for r in running if not r[0].is_alive()]:
                running.remove((process, claim))
                if process.exitcode != 0:
                    store.release(job_id, claim)
    finally:
        for process, _ in running:
            process.terminate()
            process.join()


def _finish(store: ReplayStore, job_id: str, engine: Any, monitor: Monitor) -> None:
    """Work in this process until the job is done or failed: batches left by dead workers are
    taken over; batches other live workers hold are waited for (their lease bounds the wait)."""
    while True:
        work(store, job_id, engine, on_batch=monitor.tick)
        job = monitor.tick(force=True)
        if job.state in ("done", "failed"):
            return
        time.sleep(POLL)


# ---------------------------------------------------------------- output and progress


class Monitor:
    """Reads the job's progress from the database and writes out changes in log order."""

    def __init__(self, store: ReplayStore, job: Job, out: TextOut, progress: Progress):
        self.store, self.job, self.out, self.progress = store, job, out, progress
        self.next_batch = 0
        self.last = 0.0

    def tick(self, force: bool = False) -> Job:
        if not force and time.monotonic() - self.last < POLL:
            return self.job
        self.last = time.monotonic()
        found = self.store.job(self.job.job_id)
        assert found is not None
        self.job = found
        self.progress.update(self.store.progress(found))
        self._write_changes()
        return found

    def _write_changes(self) -> None:
        if self.job.plan is None:
            return
        while run := self.store.finished_run(self.job, self.next_batch):
            with self.progress.paused():
                for batch_no in run:
                    for change in self.store.batch_changes(self.job.job_id, batch_no):
                        self.out.change(change)
                self.out.stream.flush()
            self.next_batch = run[-1] + 1

    def close(self) -> Job:
        job = self.tick(force=True)
        self.progress.close(self.store.progress(job))
        return job


class Progress:
    """A tqdm bar when stderr is a terminal; otherwise a plain line at most every few seconds."""

    def __init__(self, at: dict[str, int], stream: IO[str]):
        self.stream = stream
        self.started = self.printed = time.monotonic()
        self.first = at["done"]
        self.bar: Any = None
        if stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=at["total"], initial=at["done"], unit=" decisions", file=stream)

    def update(self, at: dict[str, int], final: bool = False) -> None:
        if self.bar is not None:
            self.bar.total = at["total"]
            self.bar.update(at["done"] - self.bar.n)
        elif final or time.monotonic() - self.printed >= PLAIN_EVERY:
            self.printed = time.monotonic()
            print(self.line(at), file=self.stream, flush=True)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Lines written meanwhile (changes on the same terminal) do not break the bar."""
        if self.bar is not None:
            self.bar.clear()
        try:
            yield
        finally:
            if self.bar is not None:
                self.bar.refresh()

    def line(self, at: dict[str, int]) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = (at["done"] - self.first) / elapsed
        left = (at["total"] - at["done"]) / rate if rate > 0 else 0.0
        return f"replay: {at['done']}/{at['total']} decisions, {rate:.0f}/s, {left:.0f} s left"

    def close(self, at: dict[str, int]) -> None:
        self.update(at, final=True)
        if self.bar is not None:
            self.bar.close()


class TextOut:
    """One line per changed decision as it comes, the summary at the end."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def begin(self, job_id: str) -> None:
        self.job_id = job_id

    def change(self, c: dict[str, Any]) -> None:
        before = (c["before"] or {}).get("decision", "?")
        who = f"{c['decision_id']} {c['reference'] or '-'}"
        if c["change"] == "error":
            problems = "; ".join(f"{p['loc']}: {p['msg']}" for p in c["error"]["errors"])
            line = f"error            {who}: {c['error']['detail']}" + (f": {problems}" if problems else "")
        else:
            codes = [f"+{x}" for x in c["codes_added"]] + [f"-{x}" for x in c["codes_removed"]]
            codes += [f"~{x}" for x in c.get("basis_changed", [])]
            line = f"{c['change']:<16} {who} {before} -> {c['after']['decision']} {' '.join(codes)}"
        self.stream.write(line.rstrip() + "\n")

    def end(self, job: Job) -> None:
        if job.summary is None:
            return
        s = job.summary
        self.stream.write(
            f"replay {job.job_id}: {s['total']} decisions: {s['unchanged']} unchanged, "
            f"{s['tightened']} tightened, {s['loosened']} loosened, {s['reasons_changed']} with other "
            f"reasons, {s['errors']} errors\n"
        )
        self.stream.flush()


class JsonOut(TextOut):
    """`{"job", "changes": [...], "state", "summary", "error"}`, the changes written as they come."""

    def begin(self, job_id: str) -> None:
        self.first = True
        self.stream.write('{"job": ' + json.dumps(job_id) + ', "changes": [')

    def change(self, c: dict[str, Any]) -> None:
        self.stream.write(("\n" if self.first else ",\n") + json.dumps(c, ensure_ascii=False))
        self.first = False

    def end(self, job: Job) -> None:
        tail = {"state": job.state, "summary": job.summary, "error": job.error}
        self.stream.write("\n], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n")
        self.stream.flush()


# ---------------------------------------------------------------- replay-worker


def cmd_replay_worker(args: argparse.Namespace, config: Config) -> int:
    """Exit 0 when nothing is left for this worker (the job done, or others hold the rest),
    1 when the job failed, 2 for an unknown job or log."""
    from service.replay_worker import run_worker

    log = _existing_log(args.db or config.db, "replay-worker")
    if log is None:
        return EXIT_USAGE
    try:
        store = ReplayStore(log)
        if store.job(args.job_id) is None:
            _err(f"doorgifte replay-worker: no replay job {args.job_id!r}")
            return EXIT_USAGE
        run_worker(store, args.job_id, config)
    except Exception as exc:  # the job carries the error; the exit status says so too
        _err(f"doorgifte replay-worker: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL
    finally:
        log.close()
    return EXIT_OK


# ---------------------------------------------------------------- the golden log


def golden_log(path: Path, flows: Iterable[tuple[str, dict[str, Any], str, list[str]]]) -> int:
    """Write golden flows with their committed answers as a new, throwaway decision log: the
    replay gate decides them again with the working tree and fails on any difference."""
    if path.exists():
        _err(f"doorgifte golden: {path} exists; the golden log is always a new file")
        return EXIT_USAGE
    log = open_log(str(path))
    written, chunk = 0, []
    try:
        for name, flow, decision, codes in flows:
            chunk.append(_golden_entry(name, flow, decision, codes))
            if len(chunk) >= 1000:
                log.write(chunk)
                written, chunk = written + len(chunk), []
        log.write(chunk)
    finally:
        log.close()
    print(f"wrote {written + len(chunk)} golden decisions to {path}")
    return EXIT_OK


def _golden_entry(name: str, flow: dict[str, Any], decision: str, codes: list[str]) -> LogEntry:
    """A log row whose answer records what the golden matrix commits: the decision and the codes
    of its conditions and denials (replay compares it at that precision)."""
    decision_id = str(uuid.uuid4())
    answer = {
        "decision_id": decision_id,
        "decision": decision,
        "as_of": flow["as_of"],
        "policy": {"id": flow["policy"], "version": "golden"},
        "reference_data": {"version": "golden"},
        "golden": {"codes": codes},
    }
    return LogEntry(
        decision_id=decision_id,
        decided_at=now(),
        request_id="golden",
        policy_id=flow["policy"],
        policy_version="golden",
        reference_version="golden",
        decision=decision,
        request=json.dumps(flow, separators=(",", ":")),
        response=json.dumps(answer, separators=(",", ":")),
        reference=name,
        open_actions=open_actions_text(actions_of_response(answer)),  # none: it records only codes
    )
