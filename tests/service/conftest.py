"""Fixtures for the HTTP service tests: an app on a fresh SQLite decision log per test.

The engine is the session's (tests/conftest.py), loaded once; each app gets its
own log file, metrics registry and decider, as a gunicorn worker would.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.api import Engine
from service.app import create_app
from service.config import Config
from service.decision_log import DecisionLog
from tests.service.support import FLOWS


@pytest.fixture
def flows() -> dict[str, Any]:
    """Sample flow requests: allow, conditions, deny, chain (two hops), invalid (unknown country)."""
    return copy.deepcopy(FLOWS)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "decisions.sqlite3"


@pytest.fixture
def make_app(engine: Engine, db_path: Path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(decision_log: DecisionLog | None = None, **settings: Any) -> Flask:
        # no batch helper processes unless a test asks (test_http_batch_pool.py): the other tests
        # decide in process, as with DOORGIFTE_BATCH_PROCESSES=0
        config = Config(**{"db": str(db_path), "batch_processes": 0, **settings})
        app = create_app(config, engine=engine, decision_log=decision_log)
        apps.append(app)
        return app

    yield make
    for app in apps:
        service = app.extensions["doorgifte"]
        if service.decider.pool is not None:  # its helper processes, if a large batch started any
            service.decider.pool.close()
        service.log.close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
