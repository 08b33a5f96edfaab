"""A real `doorgifte serve` whose decision log cannot be written: a read-only directory and a full
disk, both real (a read-only or tiny tmpfs mount, which stops root too). Every decision request
answers 503 and never a 200 it did not log; once the disk is usable again the service recovers
without a restart."""

from __future__ import annotations

import contextlib
import errno
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.support import (
    FLOWS,
    MountUnavailable,
    Server,
    assert_problem,
    logged_ids,
    read_only_directory,
    tmpfs,
)


def no_server_errors_but_503(server: Server) -> None:
    """The service log has no 5xx other than the 503s of an unusable log (no 500, no traceback)."""
    lines = server.log_lines()
    assert [line for line in lines if line.get("status", 0) >= 500 and line["status"] != 503] == []
    assert not [line for line in lines if line.get("level") == "error" and "error_id" in line]


def test_a_read_only_log_directory_answers_503_and_recovers_when_writable(tmp_path):
    directory = tmp_path / "log"
    with contextlib.ExitStack() as stack:
        try:
            make_writable = stack.enter_context(read_only_directory(directory))
        except MountUnavailable as exc:
            pytest.skip(f"no way to make a directory read-only for root here: {exc}")
        db = directory / "decisions.sqlite3"
        server = Server(str(db))
        stack.callback(server.close)  # before the directory is unmounted
        server.start(ready=False)  # it starts, but is never ready while the log cannot be written
        assert_problem(requests.get(server.url + "/readyz", timeout=10), 503, "not_ready")
        with requests.Session() as session:
            for name in ("allow", "conditions", "deny", "chain") * 3:
                answer = session.post(server.url + "/v1/decisions", json=FLOWS[name], timeout=10)
                body = assert_problem(answer, 503, "decision_log_unavailable")
                assert "decision" not in body and answer.headers["Retry-After"] == "5"
            batch = {"flows": [FLOWS["allow"], FLOWS["deny"]]}
            assert_problem(
                session.post(server.url + "/v1/decisions/batch", json=batch, timeout=10),
                503,
                "decision_log_unavailable",
            )
            lookup = session.get(server.url + f"/v1/decisions/{uuid.uuid4()}", timeout=10)
            assert_problem(lookup, 503, "decision_log_unavailable")
        assert list(directory.iterdir()) == []  # nothing was created, let alone logged

        make_writable()
        answer = requests.post(server.url + "/v1/decisions", json=FLOWS["allow"], timeout=10)
        assert answer.status_code == 200  # recovered without a restart
        assert requests.get(server.url + "/readyz", timeout=10).status_code == 200
        assert logged_ids(str(db)) == [answer.json()["decision_id"]]  # and none of the refused ones
        assert server.stop() == 0
        no_server_errors_but_503(server)


def fill(disk: Path) -> Path:
    """Fill the file system of `disk` to the last byte with one file; returns it."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        for chunk in (65536, 4096, 512, 1):
            block = b"\0" * chunk
            while True:
                try:
                    out.write(block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    return filler


def test_a_full_disk_answers_503_never_an_unlogged_200_and_recovers(tmp_path):
    with contextlib.ExitStack() as stack:
        try:
            disk = stack.enter_context(tmpfs(tmp_path / "disk", size="512k"))
        except MountUnavailable as exc:
            pytest.skip(f"no small file system to fill here: {exc}")
        db = disk / "decisions.sqlite3"
        server = Server(str(db))
        stack.callback(server.close)  # before the disk is unmounted
        server.start()
        with requests.Session() as session:

            def decide(flow: dict[str, Any]) -> requests.Response:
                return session.post(server.url + "/v1/decisions", json=flow, timeout=10)

            first = decide(FLOWS["allow"])
            assert first.status_code == 200
            answered = [first.json()["decision_id"]]
            filler = fill(disk)

            # a batch far larger than any slack left in the log's files: all of it or nothing
            batch = {"flows": [FLOWS["chain"]] * 200}
            response = session.post(server.url + "/v1/decisions/batch", json=batch, timeout=30)
            assert_problem(response, 503, "decision_log_unavailable")
            refused = 1
            for name in ("chain", "conditions", "deny") * 5:
                answer = decide(FLOWS[name])
                if answer.status_code == 200:  # small enough for a page the log already had
                    answered.append(answer.json()["decision_id"])
                else:
                    assert_problem(answer, 503, "decision_log_unavailable")
                    refused += 1
            assert refused >= 10

            filler.unlink()
            after = decide(FLOWS["deny"])
            assert after.status_code == 200  # recovered without a restart
            answered.append(after.json()["decision_id"])
            assert session.get(server.url + "/readyz", timeout=10).status_code == 200
        assert logged_ids(str(db)) == answered  # every 200 logged, nothing of a 503
        assert server.stop() == 0
        no_server_errors_but_503(server)
