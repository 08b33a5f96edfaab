"""Replay jobs on a real PostgreSQL server: claims with `FOR UPDATE SKIP LOCKED`, two workers on
one job, a killed worker's batch taken over, and the CLI end to end.

Skipped, with the reason, when PostgreSQL or psycopg is not available here;
`make test-postgres` sets DOORGIFTE_REQUIRE_POSTGRES=1 so that they fail instead.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator

import pytest

from service import replay_cli
from service.cli import main
from service.decision_log import LogEntry, PostgresLog
from service.replay import Params, Tally
from service.replay_store import ReplayStore
from service.replay_worker import work
from tests.e2e.support import Postgres, postgres_server
from tests.service.test_replay_store import StandIn, flow, log_flows

pytestmark = pytest.mark.postgres


postgres = pytest.fixture(scope="module", name="postgres")(postgres_server)


@pytest.fixture
def pg(postgres: Postgres) -> Iterator[PostgresLog]:
    log = PostgresLog(postgres.url)
    store = ReplayStore(log)
    store.job("none")  # creates every table
    log._conn().execute(
        "TRUNCATE decisions, decision_labels, vendor_revisions, register_heads, decision_days,"
        " replay_jobs, replay_batches, replay_changes"
    )
    yield log
    log.close()


def allow_rows(log: PostgresLog, count: int) -> None:
    answer = {"decision": "allow", "as_of": "2026-11-01", "conditions": [], "denials": [], "assumptions": []}
    stamp = "2026-11-01T00:00:00.000000Z"
    log.write(
        [
            LogEntry(f"id-{i}", stamp, "r", "gdpr", "v", "v", "allow", "{}", json.dumps(answer))
            for i in range(count)
        ]
    )


def test_two_workers_share_one_job_and_no_batch_is_done_twice(pg):
    """Two workers on their own connections (threads here, with a stand-in engine: the claim
    logic is what is tested) take batches with SKIP LOCKED until none is left."""
    allow_rows(pg, 60)
    store = ReplayStore(pg)
    job = store.plan(store.create(Params(batch_size=4)).job_id)
    workers = [threading.Thread(target=work, args=(store, job.job_id, StandIn(), f"w{i}")) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done = store.job(job.job_id)
    assert done is not None and done.state == "done"
    assert done.summary == {**done.summary, "total": 60, "unchanged": 60}
    rows = store._read(
        "SELECT claim, state, total FROM replay_batches WHERE job_id = {p} AND plan = {p}",
        (job.job_id, job.plan),
    )
    assert len(rows) == 15 and {r[1] for r in rows} == {"done"} and sum(r[2] for r in rows) == 60
    assert {r[0] for r in rows} == {"w0", "w1"}


def test_a_killed_workers_batch_is_taken_over_and_counted_once(pg, engine):
    shield = flow("2020-07-01", certifications=["eu-us-privacy-shield"])
    log_flows(pg.url, engine, [shield, flow("2020-07-01", "DE")] * 3)
    store = ReplayStore(pg)
    job = store.plan(store.create(Params(as_of="2020-08-01", batch_size=2)).job_id)
    dead = store.claim(job.job_id, "killed")
    assert dead is not None
    work(store, job.job_id, engine)
    assert store.job(job.job_id).state == "running"  # type: ignore[union-attr]
    store.resume(job.job_id)
    work(store, job.job_id, engine)
    done = store.job(job.job_id)
    assert done is not None and done.summary == {**done.summary, "total": 6, "tightened": 3, "unchanged": 3}
    assert store.finish(dead, Tally(total=2, tightened=2), []) is False
    assert store.job(job.job_id).summary == done.summary  # type: ignore[union-attr]


def test_the_cli_replays_a_postgresql_log_without_writing_it(pg, engine, monkeypatch, capsys):
    monkeypatch.setattr(replay_cli, "build_engine", lambda params, config: engine)
    shield = flow("2020-07-01", certifications=["eu-us-privacy-shield"])
    log_flows(pg.url, engine, [shield, flow("2020-07-01", "DE"), shield])
    before = _dump(pg)
    code = main(
        ["replay", "--db", pg.url, "--as-of", "2020-08-01", "--format", "json", "--fail-on", "tightened"]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 10 and report["summary"]["tightened"] == 2 and report["summary"]["total"] == 3
    assert _dump(pg) == before


def _dump(log: PostgresLog) -> str:
    digest = hashlib.sha256()
    conn = log._conn()
    for sql in (
        "SELECT * FROM decisions ORDER BY seq",
        "SELECT * FROM decision_labels ORDER BY decision_id, key",
    ):
        for row in conn.execute(sql).fetchall():
            digest.update(repr(row).encode())
    return digest.hexdigest()
