"""Helpers shared by the service tests (imported, not fixtures)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

FLOWS = json.loads((Path(__file__).parent / "data" / "flows.json").read_text(encoding="utf-8"))
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem of this status and code; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data(as_text=True))
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/" + code)
    assert isinstance(body["errors"], list)
    for item in body["errors"]:
        assert {"loc", "msg"} <= set(item) <= {"loc", "msg", "hint"}
    return body


def logged_ids(db_path: Path | str) -> list[str]:
    """Decision ids in a SQLite log, in the order they were written, read by a connection of our own."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return [row[0] for row in conn.execute("SELECT decision_id FROM decisions ORDER BY seq")]


def in_two_threads(work: Any, timeout: float = 60) -> None:
    """Run `work(0)` and `work(1)` at once, each in its own thread, and raise the first error
    either met (two writers taking the same rows in opposite orders must never deadlock)."""
    import threading

    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # noqa: BLE001 - raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a writer is still waiting: a deadlock?"
    if errors:
        raise errors[0]
