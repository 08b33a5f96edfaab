"""`POST /v1/replays` and `GET /v1/replays/{id}` through the Flask app.

Worker processes are not started here: the spawner is replaced by a recorder and the job
is worked in this process with the session's engine (tests/e2e/test_e2e_replay.py runs
real detached workers behind a real server).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from service.decision_log import open_log
from service.replay_store import ReplayStore
from service.replay_worker import work
from service.resources import replays
from service.schemas import ReplayJob
from tests.service.support import assert_problem
from tests.service.test_replay_cli import DPF_ANNULLED, scenarios_supported
from tests.service.test_replay_store import flow, log_flows


@pytest.fixture
def started(monkeypatch) -> list[tuple[str, int, dict[str, str]]]:
    calls: list[tuple[str, int, dict[str, str]]] = []
    monkeypatch.setattr(replays, "start_detached", lambda job, n, env: calls.append((job, n, dict(env))))
    return calls


def post(client: Any, body: Any) -> Any:
    return client.post("/v1/replays", data=json.dumps(body), content_type="application/json")


def job_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    ReplayJob.model_validate(body)  # the answer is what the OpenAPI document says
    return body


def test_a_replay_of_an_empty_log_is_done_at_once_without_workers(client, started):
    response = post(client, {})
    body = job_of(response, 202)
    assert response.headers["Location"] == f"/v1/replays/{body['id']}"
    assert body["state"] == "done" and started == []
    assert body["summary"] == dict.fromkeys(body["summary"], 0) and body["progress"] == {
        "done": 0,
        "total": 0,
    }
    assert job_of(client.get(response.headers["Location"]), 200)["state"] == "done"


def test_a_replay_starts_its_workers_and_pages_its_results(app, client, engine, db_path, started):
    shield = flow("2020-07-01", certifications=["eu-us-privacy-shield"])
    ids = log_flows(db_path, engine, [shield, flow("2020-07-01", "DE"), shield, shield])
    body = job_of(post(client, {"as_of": "2020-08-01", "jobs": 2}), 202)
    assert body["state"] == "queued" and body["parameters"]["as_logged"] is False
    ((job_id, jobs, env),) = started
    assert (job_id, jobs, env["DOORGIFTE_DB"]) == (body["id"], 2, str(db_path))

    log = open_log(str(db_path))  # what the detached worker does
    work(ReplayStore(log), job_id, engine)
    log.close()
    done = job_of(client.get(f"/v1/replays/{job_id}"), 200)
    assert done["state"] == "done" and done["progress"] == {"done": 4, "total": 4}
    assert done["summary"]["tightened"] == 3 and done["next_cursor"] is None
    assert [r["decision_id"] for r in done["results"]] == [ids[0], ids[2], ids[3]]

    first = job_of(client.get(f"/v1/replays/{job_id}?limit=2"), 200)
    rest = job_of(client.get(f"/v1/replays/{job_id}?limit=2&cursor={first['next_cursor']}"), 200)
    assert [r["decision_id"] for r in first["results"] + rest["results"]] == [ids[0], ids[2], ids[3]]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"as_of": "2026-01-01", "as_logged": True}, "as_logged"),
        ({"as_of": "2017-01-01"}, "as_of"),
        ({"since": "last tuesday"}, "since"),
        ({"jobs": 9}, "jobs"),
        ({"job": 2}, "job"),
        ({"policy_path": ["/etc"]}, "policy_path[0]"),
        ({"data_path": "/tmp"}, "data_path"),
    ],
)
def test_a_bad_replay_request_is_a_422_naming_the_field(client, started, body, loc):
    problem = assert_problem(post(client, body), 422, "invalid_request")
    assert [e["loc"] for e in problem["errors"]] == [loc], problem
    assert started == []


def test_candidate_directories_only_below_the_operators_paths(make_app, tmp_path, started):
    allowed = tmp_path / "candidates"
    (allowed / "policies").mkdir(parents=True)
    client = make_app(replay_paths=(allowed,)).test_client()
    problem = assert_problem(post(client, {"policy_path": [str(tmp_path)]}), 422, "invalid_request")
    assert "DOORGIFTE_REPLAY_PATHS" in problem["errors"][0]["msg"]
    escape = str(allowed / "policies" / ".." / "..")
    assert_problem(post(client, {"policy_path": [escape]}), 422, "invalid_request")
    body = job_of(post(client, {"policy_path": [str(allowed / "policies")]}), 202)
    assert body["parameters"]["candidate"] is True
    unset = assert_problem(
        post(make_app().test_client(), {"data_path": str(allowed)}), 422, "invalid_request"
    )
    assert "DOORGIFTE_REPLAY_PATHS is not set" in unset["errors"][0]["msg"]


def test_a_scenario_with_unknown_ids_is_a_422(client, engine, started):
    if not scenarios_supported(engine):
        pytest.skip("the engine does not take a scenario yet")
    bad = {"adequacy_end": [{"decision": "us-dpf-2099", "on": "2027-03-01"}]}
    problem = assert_problem(post(client, {"scenario": bad}), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == "scenario.adequacy_end[0].decision"
    assert job_of(post(client, {"scenario": DPF_ANNULLED}), 202)["parameters"]["scenario"] == DPF_ANNULLED


def test_running_jobs_are_limited(make_app, db_path, engine, started):
    log_flows(db_path, engine, [flow("2026-11-01", "DE")])
    client = make_app(replay_max_running=1).test_client()
    job_of(post(client, {}), 202)
    response = post(client, {})
    assert_problem(response, 503, "not_ready")
    assert response.headers["Retry-After"] and len(started) == 1


def test_an_unknown_job_is_a_404_and_a_bad_page_a_422(client):
    assert_problem(client.get("/v1/replays/no-such-job"), 404, "not_found")
    job_id = job_of(post(client, {}), 202)["id"]
    assert_problem(client.get(f"/v1/replays/{job_id}?limit=0"), 422, "invalid_request")
    assert_problem(client.get(f"/v1/replays/{job_id}?page=2"), 422, "invalid_request")


def test_the_openapi_document_describes_replays(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert set(paths["/v1/replays"]["post"]["responses"]) >= {"202", "422", "503"}
    assert [p["name"] for p in paths["/v1/replays/{job_id}"]["get"]["parameters"]] == [
        "job_id",
        "limit",
        "cursor",
    ]


def test_the_operator_settings_come_from_the_environment(tmp_path):
    from service.config import Config, ConfigError

    env = {
        "DOORGIFTE_REPLAY_PATHS": f"{tmp_path}/a{os.pathsep}{tmp_path}/b",
        "DOORGIFTE_REPLAY_MAX_RUNNING": "3",
    }
    config = Config.from_env(env)
    assert config.replay_paths == (tmp_path / "a", tmp_path / "b") and config.replay_max_running == 3
    assert Config.from_env({}).replay_paths == () and Config.from_env({}).replay_max_running == 2
    with pytest.raises(ConfigError):
        Config.from_env({"DOORGIFTE_REPLAY_MAX_RUNNING": "0"})
