"""A replay over HTTP against a real `doorgifte serve`: the job's detached worker process
decides the logged requests again and `GET /v1/replays/{id}` reaches `done` with the summary."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import requests

from service.decision_log import TIME_FORMAT
from tests.e2e.support import Server
from tests.service.test_replay_store import flow

DONE_WITHIN = 60.0


def stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime(TIME_FORMAT)


def wait_done(server: Server, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + DONE_WITHIN
    while time.monotonic() < deadline:
        body: dict[str, Any] = requests.get(server.url + location, timeout=10).json()
        if body["state"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"the replay {location} was not done within {DONE_WITHIN} s: {body}")


def test_a_replay_over_http_reaches_done_with_its_summary(server: Server):
    shield = flow("2020-07-01", certifications=["eu-us-privacy-shield"])
    since = stamp()
    ids = []
    for payload in ({**shield, "reference": "po-http"}, flow("2020-07-01", "DE"), shield):
        answer = requests.post(server.url + "/v1/decisions", json=payload, timeout=10)
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["decision_id"])
    until = stamp()

    started = requests.post(
        server.url + "/v1/replays", json={"since": since, "until": until, "as_of": "2020-08-01"}, timeout=10
    )
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location == f"/v1/replays/{started.json()['id']}"
    assert started.json()["state"] in ("queued", "running")

    done = wait_done(server, location)
    assert done["state"] == "done", done
    assert done["summary"] == {
        "total": 3,
        "unchanged": 1,
        "tightened": 2,
        "loosened": 0,
        "reasons_changed": 0,
        "errors": 0,
    }
    assert done["progress"] == {"done": 3, "total": 3}
    assert [(r["decision_id"], r["change"]) for r in done["results"]] == [
        (ids[0], "tightened"),
        (ids[2], "tightened"),
    ]
    assert done["results"][0]["reference"] == "po-http"
    # the log of record is untouched: each decision still reads back as it was answered
    assert requests.get(f"{server.url}/v1/decisions/{ids[0]}", timeout=10).json()["decision"] == "allow"
