"""Shared fixtures: one loaded engine per test session (loading validates everything)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.api import Engine

TODAY = dt.date(2026, 12, 2)
#: the latest `last_reviewed` of the shipped reference data: review checks run on it
REVIEWED_ON = TODAY


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load()


def flow(**recipient: Any) -> dict[str, Any]:
    """A minimal valid flow: a German controller and the given root recipient."""
    base = {"name": "Recipient", "role": "processor", "country": "NL", "agreement": {"dpa": {"signed": True}}}
    return {
        "as_of": "2025-03-15",
        "exporter": {"name": "Stadtwerke", "country": "DE"},
        "recipient": {**base, **recipient},
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first (`slow`: stress, schemathesis, the browser), so that the two test
    processes of `make test` start them early instead of one of them finishing alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
