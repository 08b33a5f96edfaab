"""Replay jobs in the decision log's own database (SQLite file or PostgreSQL), next to the log.

Three tables of their own, created here (never in the log's `decisions` and
`decision_labels`, which replay only reads):

- `replay_jobs`: one row per job: its parameters (`replay.Params` as JSON), state
  (`queued`, `running`, `done`, `failed`), the plan it runs, how many decisions were
  planned, the error that failed it, the summary once done, and `updated_at`, which
  every finished batch moves on (so a job nobody works on any more can be told apart).
- `replay_batches`: the job cut into seq ranges of about `batch_size` decisions. Each is
  `pending`, `claimed` (by a worker's claim token, at a time) or `done` with its counters.
- `replay_changes`: every decision that did not come out unchanged, keyed by job and seq.

Why it is safe for several processes and machines to share a job:

- Claiming takes one pending batch, or one whose claim is older than the lease (its
  worker died), inside a write transaction: `BEGIN IMMEDIATE` on SQLite, `SELECT ... FOR
  UPDATE SKIP LOCKED` on PostgreSQL, so two workers never take the same batch at once.
- Finishing stores the batch's counters and changes and marks it done in one transaction,
  only while the batch is still claimed by the same token: a worker whose batch was taken
  over (it was slow, or `--resume` released it) stores nothing. A finished batch is never
  claimed again, so a killed job run again reaches the same summary without counting any
  decision twice. The primary key of `replay_changes` enforces it a second time.
- Planning pages through the log's seq ids in order (constant memory) and writes the
  batches under a plan token; the first planner to finish wins and the losers' batches
  are removed, so two workers that both found a job unplanned cannot split it twice.

Everything goes through the log's own connection and transaction helpers, so the
durability settings (WAL with full sync, PostgreSQL commits) are the log's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from service.decision_log import TIME_FORMAT, DecisionLog, now
from service.replay import COUNTERS, Logged, Params, Tally

#: seconds after which a claimed batch whose worker has not finished it is claimed again
LEASE_SECONDS = 300.0
#: batch rows written per transaction while planning
PLAN_CHUNK = 200

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS replay_jobs (job_id TEXT PRIMARY KEY, created_at TEXT NOT NULL,"
    " params TEXT NOT NULL, max_seq BIGINT, state TEXT NOT NULL, plan TEXT,"
    " planned BIGINT NOT NULL DEFAULT 0, error TEXT, summary TEXT, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS replay_batches (job_id TEXT NOT NULL, plan TEXT NOT NULL,"
    " batch_no INTEGER NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL,"
    " planned INTEGER NOT NULL, state TEXT NOT NULL, claim TEXT, claimed_at TEXT, done_at TEXT,"
    + "".join(f" {name} INTEGER," for name in COUNTERS)
    + " PRIMARY KEY (job_id, plan, batch_no))",
    "CREATE TABLE IF NOT EXISTS replay_changes (job_id TEXT NOT NULL, seq BIGINT NOT NULL,"
    " batch_no INTEGER NOT NULL, kind TEXT NOT NULL, change TEXT NOT NULL, PRIMARY KEY (job_id, seq))",
)
JOB_COLUMNS = "job_id, created_at, params, max_seq, state, plan, planned, error, summary, updated_at"
ROW_COLUMNS = "seq, decision_id, request, response, reference, labels, vendor_id, vendor_revision"
ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Job:
    job_id: str
    created_at: str
    params: Params
    max_seq: int | None
    state: str
    plan: str | None
    planned: int
    error: str | None
    summary: dict[str, int] | None
    updated_at: str

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Job:
        summary = json.loads(row[8]) if row[8] else None
        fields = (row[0], row[1], Params.from_json(row[2]), row[3], row[4], row[5], int(row[6]), row[7])
        return cls(*fields, summary, row[9])


@dataclass(frozen=True)
class Batch:
    """A claimed seq range of the log."""

    job_id: str
    plan: str
    batch_no: int
    first_seq: int
    last_seq: int
    claim: str


def claim_token() -> str:
    """A worker's identity on its claims: where it runs, for an operator, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def ago(seconds: float) -> str:
    """The log's time format, `seconds` ago (text order is time order)."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)).strftime(TIME_FORMAT)


class ReplayStore:
    """Replay jobs of one decision log; safe to use from several threads (one connection each)."""

    def __init__(self, log: DecisionLog, lease: float = LEASE_SECONDS):
        self.log = log
        self.lease = lease
        self.p = log.placeholder
        self.postgres = log.backend == "postgresql"
        #: SQLite would take the decided_at index for a time filter and sort; the batches walk seq
        self._time = "decided_at" if self.postgres else "+decided_at"
        self._lock_rows = " FOR UPDATE" if self.postgres else ""
        self._ready = False

    # ------------------------------------------------------------ connection and schema

    def _connection(self) -> Any:
        conn = self.log._conn()
        if not self._ready:
            with self.log._transaction(conn) as cur:
                self.log._prepare_schema(cur)  # PostgreSQL: serialises concurrent creators
                for statement in SCHEMA:
                    cur.execute(statement)
            self._ready = True
        return conn

    @contextlib.contextmanager
    def _write(self, action: str) -> Iterator[Any]:
        """One write transaction; any database error becomes LogUnavailable."""
        with self.log._guard(action), self.log._transaction(self._connection()) as cur:
            yield cur

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        with self.log._guard("read"):
            cur = self._connection().cursor()
            try:
                cur.execute(sql.format(p=self.p), args)
                return list(cur.fetchall())
            finally:
                cur.close()

    def _one(self, sql: str, args: tuple[Any, ...]) -> Any:
        rows = self._read(sql, args)
        return rows[0] if rows else None

    # ------------------------------------------------------------ jobs

    def create(self, params: Params) -> Job:
        """A queued job over the log as it stands now (decisions logged later are not in it)."""
        job_id, at = str(uuid.uuid4()), now()
        p = self.p
        with self._write("write") as cur:
            cur.execute("SELECT max(seq) FROM decisions")
            max_seq = cur.fetchone()[0]
            cur.execute(
                f"INSERT INTO replay_jobs ({JOB_COLUMNS}) VALUES ({', '.join([p] * 10)})",
                (job_id, at, params.to_json(), max_seq, "queued", None, 0, None, None, at),
            )
        job = self.job(job_id)
        assert job is not None
        return job

    def job(self, job_id: str) -> Job | None:
        row = self._one(f"SELECT {JOB_COLUMNS} FROM replay_jobs WHERE job_id = {{p}}", (job_id,))
        return Job.from_row(row) if row else None

    def recent(self, limit: int) -> list[Job]:
        """The newest jobs first (the dashboard's list of replays)."""
        rows = self._read(
            f"SELECT {JOB_COLUMNS} FROM replay_jobs ORDER BY created_at DESC LIMIT {int(limit)}", ()
        )
        return [Job.from_row(row) for row in rows]

    def active_jobs(self) -> int:
        """Jobs queued or running that a worker moved on within the lease."""
        row = self._one(
            "SELECT count(*) FROM replay_jobs WHERE state IN ('queued', 'running') AND updated_at >= {p}",
            (ago(self.lease),),
        )
        return int(row[0])

    def start(self, job_id: str) -> None:
        with self._write("write") as cur:
            cur.execute(
                f"UPDATE replay_jobs SET state = 'running', updated_at = {self.p}"
                f" WHERE job_id = {self.p} AND state = 'queued'",
                (now(), job_id),
            )

    def fail(self, job_id: str, error: str) -> None:
        """Fail closed: the job stops, with the error; it is never reported as done."""
        p = self.p
        with self._write("write") as cur:
            cur.execute(
                f"UPDATE replay_jobs SET state = 'failed', error = {p}, updated_at = {p}"
                f" WHERE job_id = {p} AND state <> 'done'",
                (error[:4000], now(), job_id),
            )

    def resume(self, job_id: str) -> None:
        """Run a job again after its workers died: every unfinished claim is released (their
        results, should they still come, are refused) and a failed job is queued again."""
        p = self.p
        with self._write("write") as cur:
            cur.execute(f"SELECT state FROM replay_jobs WHERE job_id = {p}{self._lock_rows}", (job_id,))
            if cur.fetchone()[0] == "done":
                return
            cur.execute(
                "UPDATE replay_batches SET state = 'pending', claim = NULL, claimed_at = NULL"
                f" WHERE job_id = {p} AND state = 'claimed'",
                (job_id,),
            )
            cur.execute(
                f"UPDATE replay_jobs SET state = 'queued', error = NULL, updated_at = {p} WHERE job_id = {p}",
                (now(), job_id),
            )

    def release(self, job_id: str, claim: str) -> None:
        """Give back the batches of a worker known to be dead (its process exited)."""
        p = self.p
        with self._write("write") as cur:
            cur.execute(
                "UPDATE replay_batches SET state = 'pending', claim = NULL, claimed_at = NULL"
                f" WHERE job_id = {p} AND state = 'claimed' AND claim = {p}",
                (job_id, claim),
            )

    # ------------------------------------------------------------ planning

    def plan(self, job_id: str) -> Job:
        """Cut the job into batches unless it has its plan already; returns the job planned."""
        job = self.job(job_id)
        assert job is not None
        if job.plan is not None:
            return job
        token, planned, pending = uuid.uuid4().hex, 0, []
        for batch_no, (first, last, count) in enumerate(self._ranges(job)):
            pending.append((job_id, token, batch_no, first, last, count, "pending"))
            planned += count
            if len(pending) >= PLAN_CHUNK:
                self._insert_batches(pending)
                pending = []
        self._insert_batches(pending)
        self._adopt(job_id, token, planned)
        done = self.job(job_id)
        assert done is not None
        return done

    def _ranges(self, job: Job) -> Iterator[tuple[int, int, int]]:
        """(first seq, last seq, decisions) of each batch: the log's seq ids in order, a page at a
        time, cut every `batch_size` matching decisions; the ranges cover the job's span whole."""
        after, last = self._span(job)
        filters, args = self._filters(job.params)
        size = job.params.batch_size
        while after < last:
            row = self._one(
                f"SELECT seq FROM decisions WHERE seq > {{p}} AND seq <= {{p}}{filters}"
                f" ORDER BY seq LIMIT 1 OFFSET {size - 1}",
                (after, last, *args),
            )
            if row is None:
                count = self._one(
                    f"SELECT count(*) FROM decisions WHERE seq > {{p}} AND seq <= {{p}}{filters}",
                    (after, last, *args),
                )[0]
                if count:
                    yield after + 1, last, int(count)
                return
            yield after + 1, int(row[0]), size
            after = int(row[0])

    def is_empty(self, job: Job) -> bool:
        """Whether no logged decision matches the job (cheap: one indexed look-up or two)."""
        after, last = self._span(job)
        filters, args = self._filters(job.params)
        row = self._one(
            f"SELECT seq FROM decisions WHERE seq > {{p}} AND seq <= {{p}}{filters} ORDER BY seq LIMIT 1",
            (after, last, *args),
        )
        return row is None

    def _span(self, job: Job) -> tuple[int, int]:
        """(seq before the first, last seq) that can match: the time filters narrowed through
        the decided_at index, so a replay of last week does not walk the whole log."""
        after, last = 0, job.max_seq or 0
        if job.params.since:
            first = self._one("SELECT min(seq) FROM decisions WHERE decided_at >= {p}", (job.params.since,))
            after = int(first[0]) - 1 if first[0] is not None else last
        if job.params.until:
            end = self._one("SELECT max(seq) FROM decisions WHERE decided_at <= {p}", (job.params.until,))
            last = min(last, int(end[0])) if end[0] is not None else after
        return after, last

    def _filters(self, params: Params) -> tuple[str, tuple[str, ...]]:
        """The time window as SQL after `WHERE seq ...`, and its arguments."""
        bounds = [(">=", params.since), ("<=", params.until)]
        given = [(op, value) for op, value in bounds if value]
        filters = "".join(f" AND {self._time} {op} {{p}}" for op, _ in given)
        return filters, tuple(value for _, value in given)

    def _insert_batches(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        p = self.p
        with self._write("write") as cur:
            cur.executemany(
                "INSERT INTO replay_batches (job_id, plan, batch_no, first_seq, last_seq, planned, state)"
                f" VALUES ({', '.join([p] * 7)})",
                rows,
            )

    def _adopt(self, job_id: str, token: str, planned: int) -> None:
        """Make `token` the job's plan unless another planner got there first; drop the loser's
        batches. A plan without batches finishes the job at once."""
        p = self.p
        with self._write("write") as cur:
            cur.execute(f"SELECT plan FROM replay_jobs WHERE job_id = {p}{self._lock_rows}", (job_id,))
            if cur.fetchone()[0] is not None:
                cur.execute(f"DELETE FROM replay_batches WHERE job_id = {p} AND plan = {p}", (job_id, token))
                return
            cur.execute(
                f"UPDATE replay_jobs SET plan = {p}, planned = {p}, updated_at = {p} WHERE job_id = {p}",
                (token, planned, now(), job_id),
            )
            cur.execute(f"DELETE FROM replay_batches WHERE job_id = {p} AND plan <> {p}", (job_id, token))
            if planned == 0:
                self._complete(cur, job_id, token)

    # ------------------------------------------------------------ claiming and finishing

    def claim(self, job_id: str, claim: str) -> Batch | None:
        """The next batch nobody holds (pending, or claimed longer ago than the lease), now
        claimed by `claim`; None when the job is not running or nothing is left to take."""
        p = self.p
        with self._write("write") as cur:
            cur.execute(f"SELECT state, plan FROM replay_jobs WHERE job_id = {p}", (job_id,))
            state, plan = cur.fetchone()
            if state not in ACTIVE or plan is None:
                return None
            cur.execute(
                "SELECT batch_no, first_seq, last_seq FROM replay_batches"
                f" WHERE job_id = {p} AND plan = {p}"
                f" AND (state = 'pending' OR (state = 'claimed' AND claimed_at < {p}))"
                " ORDER BY batch_no LIMIT 1" + (" FOR UPDATE SKIP LOCKED" if self.postgres else ""),
                (job_id, plan, ago(self.lease)),
            )
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(
                f"UPDATE replay_batches SET state = 'claimed', claim = {p}, claimed_at = {p}"
                f" WHERE job_id = {p} AND plan = {p} AND batch_no = {p}",
                (claim, now(), job_id, plan, row[0]),
            )
        return Batch(job_id, plan, int(row[0]), int(row[1]), int(row[2]), claim)

    def rows(self, batch: Batch, params: Params) -> list[Logged]:
        """The batch's logged decisions (at most `batch_size`), in log order."""
        filters, args = self._filters(params)
        found = self._read(
            f"SELECT {ROW_COLUMNS} FROM decisions WHERE seq >= {{p}} AND seq <= {{p}}{filters} ORDER BY seq",
            (batch.first_seq, batch.last_seq, *args),
        )
        return [Logged(int(r[0]), *r[1:]) for r in found]

    def finish(self, batch: Batch, tally: Tally, changes: list[tuple[int, str, str]]) -> bool:
        """Store a batch's counters and changes ((seq, kind, JSON) each) and mark it done, all in
        one transaction, only while `batch.claim` still holds it; False (nothing stored) when
        the claim was lost. The last batch done completes the job with its summary."""
        p = self.p
        with self._write("write") as cur:
            # the job row first: finishers of one job queue here, so the last one sees all others
            cur.execute(f"SELECT state FROM replay_jobs WHERE job_id = {p}{self._lock_rows}", (batch.job_id,))
            counters = ", ".join(f"{name} = {p}" for name in COUNTERS)
            cur.execute(
                f"UPDATE replay_batches SET state = 'done', done_at = {p}, {counters}"
                f" WHERE job_id = {p} AND plan = {p} AND batch_no = {p}"
                f" AND state = 'claimed' AND claim = {p}",
                (now(), *tally.as_json().values(), batch.job_id, batch.plan, batch.batch_no, batch.claim),
            )
            if cur.rowcount != 1:
                return False
            cur.executemany(
                "INSERT INTO replay_changes (job_id, seq, batch_no, kind, change)"
                f" VALUES ({p}, {p}, {p}, {p}, {p})",
                [(batch.job_id, seq, batch.batch_no, kind, text) for seq, kind, text in changes],
            )
            cur.execute(f"UPDATE replay_jobs SET updated_at = {p} WHERE job_id = {p}", (now(), batch.job_id))
            cur.execute(
                f"SELECT count(*) FROM replay_batches WHERE job_id = {p} AND plan = {p} AND state <> 'done'",
                (batch.job_id, batch.plan),
            )
            if cur.fetchone()[0] == 0:
                self._complete(cur, batch.job_id, batch.plan)
        return True

    def _complete(self, cur: Any, job_id: str, plan: str) -> None:
        """The summary is the sum of the batches' counters, each stored once."""
        p = self.p
        sums = ", ".join(f"sum({name})" for name in COUNTERS)
        cur.execute(f"SELECT {sums} FROM replay_batches WHERE job_id = {p} AND plan = {p}", (job_id, plan))
        summary = dict(zip(COUNTERS, (int(v or 0) for v in cur.fetchone()), strict=True))
        cur.execute(
            f"UPDATE replay_jobs SET state = 'done', summary = {p}, error = NULL, updated_at = {p}"
            f" WHERE job_id = {p}",
            (json.dumps(summary), now(), job_id),
        )

    # ------------------------------------------------------------ reading results

    def progress(self, job: Job) -> dict[str, int]:
        """{done, total}: decisions in finished batches, of those planned."""
        if job.plan is None:
            return {"done": 0, "total": 0}
        row = self._one(
            "SELECT sum(total) FROM replay_batches WHERE job_id = {p} AND plan = {p} AND state = 'done'",
            (job.job_id, job.plan),
        )
        return {"done": int(row[0] or 0), "total": job.planned}

    def finished_run(self, job: Job, from_batch: int, limit: int = 100) -> list[int]:
        """Batch numbers from `from_batch` on that are done with none unfinished before them: the
        changes that can be written out in log order now."""
        assert job.plan is not None
        rows = self._read(
            "SELECT batch_no, state FROM replay_batches WHERE job_id = {p} AND plan = {p} AND batch_no >= {p}"
            f" ORDER BY batch_no LIMIT {int(limit)}",
            (job.job_id, job.plan, from_batch),
        )
        run = []
        for batch_no, state in rows:
            if state != "done":
                break
            run.append(int(batch_no))
        return run

    def batch_changes(self, job_id: str, batch_no: int) -> list[dict[str, Any]]:
        """One batch's changes in log order (at most a batch's worth)."""
        rows = self._read(
            "SELECT change FROM replay_changes WHERE job_id = {p} AND batch_no = {p} ORDER BY seq",
            (job_id, batch_no),
        )
        return [json.loads(r[0]) for r in rows]

    def changes_page(self, job_id: str, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        """Up to `limit` changes after seq `after`, and the seq to continue from (None at the end)."""
        rows = self._read(
            "SELECT seq, change FROM replay_changes WHERE job_id = {p} AND seq > {p}"
            f" ORDER BY seq LIMIT {int(limit) + 1}",
            (job_id, after),
        )
        page = rows[:limit]
        more = int(page[-1][0]) if len(rows) > limit else None
        return [json.loads(r[1]) for r in page], more

    def window(self, job: Job) -> dict[str, str | None]:
        """When the job's batches were first claimed and last finished (for rates)."""
        row = self._one(
            "SELECT min(claimed_at), max(done_at) FROM replay_batches WHERE job_id = {p} AND plan = {p}",
            (job.job_id, job.plan),
        )
        return {"first_claimed": row[0], "last_done": row[1]}
