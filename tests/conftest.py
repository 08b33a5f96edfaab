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


#: a UK exporter whose Dutch processor sends the data on to India: the root hop under the UK
#: GDPR, the onward hop under the GDPR (SPEC section 4a)
UK_VIA_DUTCH_PROCESSOR: dict[str, Any] = {
    "as_of": "2026-11-22",
    "exporter": {"name": "Example Retail Ltd", "country": "GB"},
    "recipient": {
        "name": "Amsterdam Hosting BV",
        "role": "processor",
        "country": "NL",
        "agreement": {"dpa": {"signed": True}},
        "sub_processors": [
            {
                "name": "Ops Pvt Ltd",
                "country": "IN",
                "agreement": {
                    "dpa": {"signed": True},
                    "flow_down": True,
                    "authorisation": {"kind": "specific", "granted": True},
                },
            }
        ],
    },
}
