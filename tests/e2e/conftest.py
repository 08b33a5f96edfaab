"""A real server for the end-to-end tests: `doorgifte serve` on 127.0.0.1, temp SQLite log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import Server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One single-worker server shared by the tests that only talk to it."""
    db = tmp_path_factory.mktemp("e2e") / "decisions.sqlite3"
    running = Server(str(db)).start()
    yield running
    running.close()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "var" / "decisions.sqlite3")
