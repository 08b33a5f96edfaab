"""Replay jobs on a real SQLite log: what flips, what is never written, how a killed job resumes.

The engine is the session's; jobs are worked in this process (`replay_worker.work`), so
these tests are about the store and the worker loop, not process start-up (the CLI tests
run processes). Also home of the helpers the other replay tests import.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from service.decision_log import LogEntry, SqliteLog, open_log
from service.replay import Params
from service.replay_store import ReplayStore
from service.replay_worker import work

SCC_2010 = {"scc": {"module": 2, "decision": "2010/87/EU"}, "tia": {"outcome": "no_problematic_law"}}


def flow(on: str, country: str = "US", name: str = "Recipient", **recipient: Any) -> dict[str, Any]:
    """A Dutch controller and one processor in `country`, judged `on`."""
    node = {"name": name, "role": "processor", "country": country, "agreement": {"dpa": {"signed": True}}}
    return {
        "as_of": on,
        "exporter": {"name": "Gemeente X", "country": "NL"},
        "recipient": {**node, **recipient},
    }


def log_flows(db: Path | str, engine: Any, flows: list[dict[str, Any]], at: str | None = None) -> list[str]:
    """Decide each flow and log it as the service does; the decision ids, in log order."""
    log = open_log(str(db))
    entries = []
    for i, payload in enumerate(flows):
        decision = engine.evaluate(payload)
        labels = payload.get("labels")
        entries.append(
            LogEntry(
                decision_id=decision.decision_id,
                decided_at=at or f"2026-11-0{1 + i % 9}T10:00:00.000000Z",
                request_id=f"test-{i}",
                policy_id=decision.policy.id,
                policy_version=decision.policy.version,
                reference_version=decision.reference_data.version,
                decision=decision.decision,
                request=json.dumps(payload),
                response=decision.model_dump_json(),
                reference=payload.get("reference"),
                labels=json.dumps(labels, sort_keys=True) if labels else None,
            )
        )
    log.write(entries)
    log.close()
    return [e.decision_id for e in entries]


def log_dump(db: Path | str) -> str:
    """A digest of every row of the log of record (decisions and their labels)."""
    digest = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        for table, order in (("decisions", "seq"), ("decision_labels", "decision_id, key")):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY {order}"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def replayed(store: ReplayStore, engine: Any, params: Params) -> tuple[str, dict[str, int]]:
    """A job run to its end in this process: (job id, summary)."""
    job = store.create(params)
    work(store, job.job_id, engine)
    done = store.job(job.job_id)
    assert done is not None and done.state == "done", done
    assert done.summary is not None
    return job.job_id, done.summary


def all_changes(store: ReplayStore, job_id: str) -> list[dict[str, Any]]:
    changes, _ = store.changes_page(job_id, 0, 1000)
    return changes


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "decisions.sqlite3"


@pytest.fixture
def store(db: Path):
    log = SqliteLog(db)
    yield ReplayStore(log)
    log.close()


# ---------------------------------------------------------------- what flips


def test_exactly_the_affected_decisions_flip_and_the_log_is_untouched(engine, db, store):
    """Logged on 2020-07-01, replayed on 2020-08-01 (after Schrems II invalidated the Privacy
    Shield): the certified flows tighten, the bare US flow keeps its conditions and gains one,
    the EEA flows stay."""
    shield = flow("2020-07-01", certifications=["eu-us-privacy-shield"])
    tagged = {**shield, "reference": "po-1", "labels": {"team": "hr"}}
    flows = [flow("2020-07-01", "DE"), tagged, flow("2020-07-01"), flow("2020-07-01", "FR"), shield]
    ids = log_flows(db, engine, flows)
    before = log_dump(db)

    job_id, summary = replayed(store, engine, Params(as_of="2020-08-01", batch_size=2))

    assert summary == {
        "total": 5,
        "unchanged": 2,
        "tightened": 2,
        "loosened": 0,
        "reasons_changed": 1,
        "errors": 0,
    }
    changes = all_changes(store, job_id)
    assert [(c["decision_id"], c["change"]) for c in changes] == [
        (ids[1], "tightened"),
        (ids[2], "reasons_changed"),
        (ids[4], "tightened"),
    ]
    tightened = changes[0]
    assert tightened["reference"] == "po-1" and tightened["labels"] == {"team": "hr"}
    assert tightened["before"]["decision"] == "allow" and tightened["after"]["decision"] == "conditions"
    assert "transfer.sign_scc" in tightened["codes_added"]
    assert tightened["codes_removed"] == ["assume.privacy_shield_certification"]
    assert changes[1]["codes_added"] == ["transfer.assess_impact"] and changes[1]["codes_removed"] == []
    assert log_dump(db) == before  # the log of record, row for row


def test_as_logged_changes_nothing_and_since_until_select_by_log_time(engine, db, store):
    flows = [flow("2020-07-01", certifications=["eu-us-privacy-shield"]) for _ in range(3)]
    for day in ("01", "02", "03"):
        log_flows(db, engine, flows, at=f"2026-11-{day}T12:00:00.000000Z")

    _, summary = replayed(store, engine, Params(batch_size=4))
    assert summary["total"] == 9 and summary["unchanged"] == 9

    window = Params(
        as_of="2020-08-01",
        since="2026-11-02T00:00:00.000000Z",
        until="2026-11-03T00:00:00.000000Z",
        batch_size=2,
    )
    _, summary = replayed(store, engine, window)
    assert summary["total"] == 3 and summary["tightened"] == 3
    _, summary = replayed(store, engine, Params(since="2026-11-04T00:00:00.000000Z"))
    assert summary["total"] == 0


# ---------------------------------------------------------------- killed jobs


def test_a_killed_job_resumes_to_the_same_summary_without_counting_twice(engine, db, store):
    flows = [flow("2020-07-01", certifications=["eu-us-privacy-shield"]), flow("2020-07-01", "DE")] * 4
    log_flows(db, engine, flows)
    params = Params(as_of="2020-08-01", batch_size=3)
    clean_id, clean = replayed(store, engine, params)

    job = store.plan(store.create(params).job_id)
    dead = store.claim(job.job_id, "dead-worker")  # a worker that claimed a batch, then was killed
    assert dead is not None
    work(store, job.job_id, engine)  # takes every other batch; the dead one is still under lease
    assert store.job(job.job_id).state == "running"  # type: ignore[union-attr]

    store.resume(job.job_id)
    work(store, job.job_id, engine)
    resumed = store.job(job.job_id)
    assert resumed is not None and resumed.state == "done"
    assert resumed.summary == clean == {**clean, "total": 8, "tightened": 4, "unchanged": 4}
    # the killed worker's late answer is refused and counts nothing
    from service.replay import Tally

    assert store.finish(dead, Tally(total=3, tightened=3), [(1, "tightened", "{}")]) is False
    assert store.job(job.job_id).summary == clean  # type: ignore[union-attr]
    assert all_changes(store, job.job_id) == all_changes(store, clean_id)


def test_a_claim_older_than_the_lease_is_taken_over(engine, db):
    log_flows(db, engine, [flow("2026-11-01", "DE")] * 3)
    log = SqliteLog(db)
    store = ReplayStore(log, lease=0.0)  # every claim has expired at once
    job = store.plan(store.create(Params(batch_size=2)).job_id)
    first = store.claim(job.job_id, "dead-worker")
    again = store.claim(job.job_id, "live-worker")
    assert first is not None and again is not None and again.batch_no == first.batch_no
    work(store, job.job_id, engine, claim="live-worker")
    assert store.job(job.job_id).summary["total"] == 3  # type: ignore[index, union-attr]
    log.close()


def test_two_planners_leave_one_plan(engine, db, store):
    log_flows(db, engine, [flow("2026-11-01", "DE")] * 5)
    job = store.create(Params(batch_size=2))
    store._insert_batches([(job.job_id, "late-planner", 0, 1, 5, 5, "pending")])  # a planner still busy
    planned = store.plan(job.job_id)
    store._adopt(job.job_id, "late-planner", 5)  # ... finishes second and loses
    rows = store._read("SELECT DISTINCT plan FROM replay_batches WHERE job_id = {p}", (job.job_id,))
    assert [r[0] for r in rows] == [planned.plan] and planned.planned == 5
    assert [(b, f, last) for b, f, last, *_ in _batches(store, job.job_id)] == [
        (0, 1, 2),
        (1, 3, 4),
        (2, 5, 5),
    ]


def _batches(store: ReplayStore, job_id: str) -> list[Any]:
    return store._read(
        "SELECT batch_no, first_seq, last_seq, planned FROM replay_batches"
        " WHERE job_id = {p} ORDER BY batch_no",
        (job_id,),
    )


# ---------------------------------------------------------------- failing closed


class Broken:
    """An engine that decides the first flow, then fails as an internal error would."""

    def __init__(self, engine: Any):
        self.engine, self.calls = engine, 0

    def evaluate(self, payload: Any) -> Any:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("the rule engine lost its ruleset")
        return self.engine.evaluate(payload)


def test_an_internal_error_fails_the_job_and_never_counts_as_unchanged(engine, db, store):
    log_flows(db, engine, [flow("2026-11-01", "DE")] * 3)
    job = store.create(Params(batch_size=10))
    with pytest.raises(RuntimeError):
        work(store, job.job_id, Broken(engine))
    failed = store.job(job.job_id)
    assert failed is not None and failed.state == "failed" and failed.summary is None
    assert "lost its ruleset" in (failed.error or "")
    assert store.progress(failed)["done"] == 0


def test_a_refused_request_counts_as_an_error_with_its_problems(engine, db, store):
    log_flows(db, engine, [flow("2026-11-01", "DE"), flow("2026-11-01", "DE")])
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:  # a request the engine now refuses
        conn.execute(
            "UPDATE decisions SET request = replace(request, '\"DE\"', '\"Atlantis\"') WHERE seq = 2"
        )
    job_id, summary = replayed(store, engine, Params())
    assert summary["errors"] == 1 and summary["unchanged"] == 1
    (error,) = all_changes(store, job_id)
    assert error["change"] == "error" and error["after"] is None and error["before"]["decision"] == "allow"
    assert any(p["loc"] == "recipient.country" for p in error["error"]["errors"]), error


def test_workers_in_threads_share_a_job_with_no_batch_done_twice(db, store):
    """The claim logic alone (a stand-in engine, as durable-rules must not be used from two
    threads): two workers on their own connections split the batches between them."""
    answer = {"decision": "allow", "as_of": "2026-11-01", "conditions": [], "denials": [], "assumptions": []}
    log = open_log(str(db))
    log.write(
        [
            LogEntry(
                f"id-{i}",
                "2026-11-01T00:00:00.000000Z",
                "r",
                "gdpr",
                "v",
                "v",
                "allow",
                "{}",
                json.dumps(answer),
            )
            for i in range(40)
        ]
    )
    log.close()
    job = store.plan(store.create(Params(batch_size=3)).job_id)
    threads = [threading.Thread(target=work, args=(store, job.job_id, StandIn())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = store.job(job.job_id)
    assert done is not None and done.summary == {**done.summary, "total": 40, "unchanged": 40}
    claims = [r[0] for r in store._read("SELECT claim FROM replay_batches WHERE job_id = {p}", (job.job_id,))]
    assert len(claims) == 14 and len(set(claims)) == 2  # both worked; each batch once (summary above)


class StandIn:
    """Answers allow after a short pause, so that two threads interleave."""

    def evaluate(self, payload: Any) -> Any:
        import time

        time.sleep(0.002)
        return SimpleNamespace(decision="allow", conditions=[], denials=[], assumptions=[])
