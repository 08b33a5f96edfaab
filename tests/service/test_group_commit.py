"""Group commit: concurrent writers of one process share one transaction (one fsync), and none of
them returns before its own entries are committed; a failed commit fails its whole group.

The groups are made deterministic, not by timing: another connection holds SQLite's write lock,
so the writer thread waits in BEGIN IMMEDIATE with the first write it took, while the writers
started meanwhile queue up; then the lock is released. Transactions are counted by SQLite's own
trace of the COMMIT statements on the writer's connection, not by the code under test.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.decision_log import LogEntry, LogUnavailable, SqliteLog
from tests.service.support import logged_ids
from tests.service.test_decision_log import entry

WRITERS = 8
WAIT_S = 20.0


class CountingLog(SqliteLog):
    """A SQLite log that counts the COMMIT statements its connections run."""

    def __init__(self, path: Path):
        super().__init__(path, busy_timeout=WAIT_S)
        self.commits = 0
        self.groups: list[tuple[int, int]] = []  # (requests, entries) per group, from the hook
        self.on_commit = lambda requests, entries, seconds: self.groups.append((requests, entries))

    def _open(self) -> Any:
        conn = super()._open()
        conn.set_trace_callback(self._trace)
        return conn

    def _trace(self, statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            self.commits += 1


@pytest.fixture
def log(db_path: Path) -> Iterator[CountingLog]:
    counting = CountingLog(db_path)
    counting.commit([entry(0)])  # the file and its tables exist before anyone holds the lock,
    counting.write([entry(998)])  # and so does the writer thread's connection
    yield counting
    counting.close()


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)


def readable_elsewhere(db_path: Path, decision_id: str) -> bool:
    """Whether a fresh connection of its own (not the log's) sees the entry."""
    with contextlib.closing(sqlite3.connect(db_path)) as other:
        found = other.execute("SELECT 1 FROM decisions WHERE decision_id = ?", (decision_id,)).fetchone()
    return found is not None


@contextlib.contextmanager
def write_lock_held(db_path: Path) -> Iterator[None]:
    """Another connection holds the write lock until the block ends."""
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


class Writers:
    """Threads that each write their entries once, and what each saw when `write` returned."""

    def __init__(self, log: SqliteLog, db_path: Path):
        self.log, self.db_path = log, db_path
        self.threads: list[threading.Thread] = []
        self.outcomes: dict[int, str] = {}  # writer -> "visible", "not visible" or the error's name
        self.errors: dict[int, BaseException] = {}

    def start(self, n: int, entries: list[LogEntry]) -> None:
        def run() -> None:
            try:
                self.log.write(entries)
            except Exception as exc:
                self.errors[n] = exc
                self.outcomes[n] = type(exc).__name__
                return
            seen = all(readable_elsewhere(self.db_path, e.decision_id) for e in entries)
            self.outcomes[n] = "visible" if seen else "not visible"

        thread = threading.Thread(target=run, daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(WAIT_S)
        assert not any(t.is_alive() for t in self.threads), "a writer never returned"


def blocked_writer(log: CountingLog, db_path: Path, writers: Writers) -> None:
    """Start one write and wait until the writer thread took it (it then waits for the lock)."""
    writers.start(-1, [entry(999)])
    until(lambda: log.group.queued == 0 and -1 not in writers.outcomes and log.commits >= 1, "taken")
    time.sleep(0.05)  # the writer thread is inside BEGIN IMMEDIATE, retrying
    assert -1 not in writers.outcomes


def test_concurrent_writers_share_one_commit_and_each_returns_after_its_row_is_readable(log, db_path):
    writers = Writers(log, db_path)
    before = log.commits
    with write_lock_held(db_path):
        blocked_writer(log, db_path, writers)
        for n in range(WRITERS):
            writers.start(n, [entry(n + 1)])
        until(lambda: log.group.queued == WRITERS, "every writer is queued")
        time.sleep(0.05)
        assert writers.outcomes == {}  # nobody returns while nothing of theirs is committed
        assert not any(readable_elsewhere(db_path, entry(n + 1).decision_id) for n in range(WRITERS))
    writers.join()
    assert writers.outcomes == {n: "visible" for n in range(-1, WRITERS)}
    # the blocked write's own transaction, then one for all WRITERS writes: 2 commits, not 9
    assert log.commits - before == 2
    assert log.groups[-2:] == [(1, 1), (WRITERS, WRITERS)]
    assert len(logged_ids(db_path)) == WRITERS + 3


def test_a_failed_commit_fails_every_writer_of_its_group_and_writes_none_of_it(log, db_path):
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON decisions WHEN NEW.request_id = 'poison'"
            " BEGIN SELECT RAISE(ABORT, 'a poisoned entry'); END"
        )
    writers = Writers(log, db_path)
    poisoned = LogEntry(**{**entry(WRITERS + 1).__dict__, "request_id": "poison"})
    with write_lock_held(db_path):
        blocked_writer(log, db_path, writers)
        for n in range(WRITERS):
            writers.start(n, [entry(n + 1)])
        writers.start(WRITERS, [poisoned])
        until(lambda: log.group.queued == WRITERS + 1, "every writer is queued")
    writers.join()
    assert writers.outcomes[-1] == "visible"  # the group before was not touched
    assert {n: writers.outcomes[n] for n in range(WRITERS + 1)} == {
        n: "LogUnavailable" for n in range(WRITERS + 1)
    }
    assert all(isinstance(writers.errors[n], LogUnavailable) for n in range(WRITERS + 1))
    assert sorted(logged_ids(db_path)) == sorted(entry(n).decision_id for n in (0, 998, 999))
    log.write([entry(500)])  # the writer thread survived the failure and writes again
    assert readable_elsewhere(db_path, entry(500).decision_id)


def test_a_group_takes_whole_writes_and_a_batch_stays_one_transaction(log, db_path):
    log.group.max_entries = 3
    writers = Writers(log, db_path)
    with write_lock_held(db_path):
        blocked_writer(log, db_path, writers)
        batch = [entry(100 + i) for i in range(5)]  # larger than a group: taken whole, alone
        writers.start(0, batch)
        until(lambda: log.group.queued == 1, "the batch is queued")
        for n in range(1, 5):
            writers.start(n, [entry(n)])
            until(lambda n=n: log.group.queued == n + 1, f"write {n} is queued")
    writers.join()
    assert set(writers.outcomes.values()) == {"visible"}
    assert log.groups[-4:] == [(1, 1), (1, 5), (3, 3), (1, 1)]


def test_closing_the_log_commits_what_has_queued_and_a_later_write_starts_a_new_writer(log, db_path):
    writers = Writers(log, db_path)
    with write_lock_held(db_path):
        blocked_writer(log, db_path, writers)
        writers.start(0, [entry(1)])
        until(lambda: log.group.queued == 1, "the write is queued")
        closing = threading.Thread(target=log.close, daemon=True)
        closing.start()
    closing.join(WAIT_S)
    writers.join()
    assert writers.outcomes == {-1: "visible", 0: "visible"}
    log.write([entry(2)])
    assert readable_elsewhere(db_path, entry(2).decision_id)
