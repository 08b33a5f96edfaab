"""The SQLite decision log: durable settings, one transaction per request, written before answering,
and a 503 (never an unlogged decision) when it cannot be written."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from service.decision_log import LogEntry, LogUnavailable, SqliteLog, normalise_time, open_log
from tests.service.support import assert_problem, logged_ids


def entry(
    n: int, decided_at: str = "2026-01-01T00:00:00.000000Z", decision_id: str | None = None
) -> LogEntry:
    return LogEntry(
        decision_id=decision_id or f"00000000-0000-4000-8000-{n:012d}",
        decided_at=decided_at,
        request_id="r",
        policy_id="gdpr",
        policy_version="1",
        reference_version="2",
        decision="allow",
        request=json.dumps({"n": n}),
        response='{"decision": "allow"}',
    )


@pytest.fixture
def sqlite_log(db_path: Path) -> Iterator[SqliteLog]:
    log = SqliteLog(db_path, busy_timeout=0.2)
    yield log
    log.close()


# ---------------------------------------------------------------- the file


def test_log_file_and_directory_are_created_in_wal_mode_with_full_sync(sqlite_log, db_path):
    assert not db_path.parent.exists()
    sqlite_log.write([entry(1)])
    assert db_path.is_file()
    with sqlite3.connect(db_path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent, seen by anyone
    conn = sqlite_log._conn()
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL, on the writing connection


def test_the_service_log_is_in_wal_mode_after_a_decision(client, flows, db_path):
    client.post("/v1/decisions", json=flows["allow"])
    with sqlite3.connect(db_path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_entries_are_read_back_in_order_and_since_a_time(sqlite_log):
    sqlite_log.write([entry(1, "2026-01-01T10:00:00.000000Z"), entry(2, "2026-01-02T10:00:00.000000Z")])
    sqlite_log.write([entry(3, "2026-01-03T10:00:00.000000Z")])
    assert [e.request for e in sqlite_log.entries()] == ['{"n": 1}', '{"n": 2}', '{"n": 3}']
    since = normalise_time("2026-01-02T11:00:00+01:00")  # = 10:00 UTC
    assert [e.request for e in sqlite_log.entries(since)] == ['{"n": 2}', '{"n": 3}']
    assert sqlite_log.get(entry(2).decision_id) == entry(2, "2026-01-02T10:00:00.000000Z")
    assert sqlite_log.get("00000000-0000-4000-8000-999999999999") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02", "2026-01-02T00:00:00.000000Z"),
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000000Z"),
        ("2026-01-02T03:04:05.5+02:00", "2026-01-02T01:04:05.500000Z"),
    ],
)
def test_times_are_normalised_to_utc_text_that_sorts(text, expected):
    assert normalise_time(text) == expected


def test_a_write_is_all_or_nothing(sqlite_log, db_path):
    sqlite_log.write([entry(1)])
    with pytest.raises(LogUnavailable):
        sqlite_log.write([entry(2), entry(3), entry(1)])  # the third collides: nothing of it is kept
    assert [e.request for e in sqlite_log.entries()] == ['{"n": 1}']
    sqlite_log.write([entry(4)])  # the log recovers after a failed transaction
    assert len(logged_ids(db_path)) == 2


def test_a_memory_database_is_refused():
    with pytest.raises(ValueError, match="file path"):
        open_log(":memory:")


# ---------------------------------------------------------------- before the answer


def test_decision_is_in_the_log_before_the_answer_starts(app, flows, db_path):
    """When the status line is handed to the server, another connection already sees the row."""
    seen: list[list[str]] = []
    inner = app.wsgi_app

    def spying_app(environ: dict[str, Any], start_response: Any) -> Any:
        def spy(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            seen.append(logged_ids(db_path))
            return start_response(status, headers, exc_info)

        return inner(environ, spy)

    app.wsgi_app = spying_app  # type: ignore[method-assign]
    client = app.test_client()
    decision_id = client.post("/v1/decisions", json=flows["conditions"]).get_json()["decision_id"]
    assert seen == [[decision_id]]
    batch = client.post("/v1/decisions/batch", json={"flows": [flows["allow"], flows["deny"]]}).get_json()
    assert seen[1] == [decision_id, *(r["decision_id"] for r in batch["results"])]


# ---------------------------------------------------------------- when the log cannot be written


@contextlib.contextmanager
def locked(db_path: Path) -> Iterator[None]:
    """Another process's write transaction holds the log."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_locked_log_answers_503_and_no_decision(make_app, flows, db_path):
    app = make_app(decision_log=SqliteLog(db_path, busy_timeout=0.1))
    client = app.test_client()
    assert client.post("/v1/decisions", json=flows["allow"]).status_code == 200
    with locked(db_path):
        response = client.post("/v1/decisions", json=flows["deny"])
        batch = client.post("/v1/decisions/batch", json={"flows": [flows["allow"], flows["conditions"]]})
        ready = client.get("/readyz")
    body = assert_problem(response, 503, "decision_log_unavailable")
    assert "decision" not in body and response.headers["Retry-After"] == "5"
    assert_problem(batch, 503, "decision_log_unavailable")
    assert_problem(ready, 503, "not_ready")
    assert len(logged_ids(db_path)) == 1  # only the first decision, answered before the lock
    assert client.post("/v1/decisions", json=flows["deny"]).status_code == 200  # and it recovers


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Run as `nobody` for a moment when we are root, so that file permissions apply."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_a_read_only_log_directory_answers_503_and_readyz_503(make_app, flows):
    directory = Path(tempfile.mkdtemp(prefix="doorgifte-ro-"))
    try:
        directory.chmod(0o555)
        db = directory / "decisions.sqlite3"
        with unprivileged():
            client = make_app(decision_log=SqliteLog(db)).test_client()
            ready = client.get("/readyz")
            answer = client.post("/v1/decisions", json=flows["allow"])
            batch = client.post("/v1/decisions/batch", json={"flows": [flows["allow"]]})
            lookup = client.get("/v1/decisions/00000000-0000-4000-8000-000000000001")
        assert_problem(ready, 503, "not_ready")
        assert_problem(answer, 503, "decision_log_unavailable")
        assert_problem(batch, 503, "decision_log_unavailable")
        assert_problem(lookup, 503, "decision_log_unavailable")
        assert not db.exists()
    finally:
        directory.chmod(0o755)
        for leftover in directory.iterdir():
            leftover.unlink()
        directory.rmdir()


class CappedLog(SqliteLog):
    """A log whose connections may grow the file to `max_pages` pages and no further."""

    max_pages: int | None = None

    def _open(self) -> Any:
        conn = super()._open()
        if self.max_pages is not None:
            conn.execute(f"PRAGMA max_page_count = {self.max_pages}")
        return conn


def test_a_full_disk_answers_503(make_app, flows, db_path):
    log = CappedLog(db_path)
    client = make_app(decision_log=log).test_client()
    assert client.post("/v1/decisions", json=flows["allow"]).status_code == 200
    log.max_pages = log._conn().execute("PRAGMA page_count").fetchone()[0]
    log.close()  # the writer thread opens a new connection, capped: SQLite's own 'disk is full'
    big = flows["allow"]
    big["recipient"]["name"] = "x" * 200
    batch = {"flows": [big] * 50}
    assert_problem(client.post("/v1/decisions/batch", json=batch), 503, "decision_log_unavailable")
    assert len(logged_ids(db_path)) == 1


def test_threads_write_through_the_one_writer_thread(sqlite_log, db_path):
    """Concurrent writers hand their entries to the log's writer thread (group commit): none
    fails, none is lost, and every write went through that one thread's connection."""
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(25):
                sqlite_log.write([entry(t * 100 + i)])
        except BaseException as exc:
            errors.append(exc)

    sqlite_log.busy_timeout = 5.0
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(set(logged_ids(db_path))) == 100
    assert len(sqlite_log._all) == 1


def test_connections_opened_at_once_on_a_new_file_all_switch_it_to_wal(tmp_path):
    """The first switch of a new file to WAL needs it alone: connections that open it at the same
    moment got an immediate 'database is locked' (SQLite refuses the lock upgrade rather than
    wait), which failed the first writes of a fresh server about one run in fifteen."""
    for attempt in range(25):
        log = SqliteLog(tmp_path / f"fresh-{attempt}.sqlite3", busy_timeout=5.0)
        start = threading.Barrier(6)
        errors: list[BaseException] = []

        def first_write(
            t: int,
            log: SqliteLog = log,
            start: threading.Barrier = start,
            errors: list[BaseException] = errors,
        ) -> None:
            try:
                start.wait(timeout=10)
                log.write([entry(t)])
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=first_write, args=(t,)) for t in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        log.close()
        assert errors == []
        assert len(logged_ids(tmp_path / f"fresh-{attempt}.sqlite3")) == 6


def test_concurrent_requests_are_all_answered_and_logged(app, flows, db_path):
    def ask(i: int) -> str:
        response = app.test_client().post("/v1/decisions", json=flows[("allow", "deny", "chain")[i % 3]])
        assert response.status_code == 200
        decision_id: str = response.get_json()["decision_id"]
        return decision_id

    with ThreadPoolExecutor(max_workers=4) as pool:
        answered = set(pool.map(ask, range(24)))
    assert answered == set(logged_ids(db_path)) and len(answered) == 24


def test_a_sqlite_url_is_its_absolute_path(tmp_path, monkeypatch):
    from service.decision_log import open_log

    monkeypatch.chdir(tmp_path)
    target = tmp_path / "logs" / "decisions.sqlite3"
    for url in (f"sqlite://{target}", f"sqlite:///{target}"):
        log = open_log(url)
        assert isinstance(log, SqliteLog) and log.path == target
        log.check()
        log.close()
    assert target.exists() and not (tmp_path / "sqlite:").exists()


@pytest.mark.parametrize("db", ["sqlite:relative.db", "mysql://db/log", "file:log.db"])
def test_other_urls_are_refused_not_made_folders(tmp_path, monkeypatch, db):
    from service.decision_log import open_log

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        open_log(db)
    assert list(tmp_path.iterdir()) == []
