"""Scenarios and horizons over HTTP, and another reference-data directory (SPEC section 12)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from engine.api import Engine
from engine.errors import LoadError
from service.config import Config, ConfigError
from tests.engine.test_scenarios_and_horizon import DPF_FALLS, us_processor
from tests.service.support import assert_problem, logged_ids
from tests.service.test_http_vendors import ACME, CUSTOMER

REPO = Path(__file__).resolve().parents[2]


def test_a_scenario_decision_is_answered_and_never_logged(client, db_path):
    body = client.post("/v1/decisions", json=us_processor(scenario=DPF_FALLS)).get_json()
    assert body["decision"] == "conditions"
    assert body["logged"] is False
    assert "+scenario." in body["reference_data"]["version"]
    assert body["reference_data"]["scenario"]["adequacy_end"] == DPF_FALLS["adequacy_end"]
    assert client.get(f"/v1/decisions/{body['decision_id']}").status_code == 404
    assert logged_ids(db_path) == []


def test_a_scenario_with_an_unknown_decision_is_a_422_naming_it(client, db_path):
    bad = {"adequacy_end": [{"decision": "us-dpf-2099", "on": "2027-03-01"}]}
    problem = assert_problem(
        client.post("/v1/decisions", json=us_processor(scenario=bad)), 422, "invalid_request"
    )
    assert problem["errors"][0]["loc"] == "scenario.adequacy_end[0].decision"
    assert "us-dpf-2023-1795" in problem["errors"][0]["hint"]
    assert logged_ids(db_path) == []


def test_a_batch_scenario_applies_to_every_flow_that_names_none(client, db_path):
    own = {"adequacy_end": [{"decision": "us-dpf-2023-1795", "on": "2028-01-01"}]}
    flows = [us_processor(), us_processor(scenario=own), {"not": "a flow"}]
    body = client.post("/v1/decisions/batch", json={"flows": flows, "scenario": DPF_FALLS}).get_json()
    first, second, third = body["results"]
    assert (first["decision"], second["decision"], third["status"]) == ("conditions", "allow", 422)
    assert first["reference_data"]["version"] != second["reference_data"]["version"]
    assert not first["logged"] and not second["logged"]
    assert logged_ids(db_path) == []


def test_a_batch_without_a_scenario_is_unchanged(client, db_path):
    body = client.post("/v1/decisions/batch", json={"flows": [us_processor()]}).get_json()
    assert body["results"][0]["decision"] == "allow" and body["results"][0]["logged"] is True
    assert len(logged_ids(db_path)) == 1


def test_a_batch_with_an_unknown_field_names_the_known_ones(client):
    problem = assert_problem(
        client.post("/v1/decisions/batch", json={"flows": [], "scenarios": {}}), 422, "invalid_request"
    )
    assert problem["errors"][0]["loc"] == "scenarios"


def test_the_horizon_is_answered_and_logged(client, db_path):
    uk = {**us_processor(as_of="2026-12-01"), "horizon": True}
    uk["recipient"] = {**uk["recipient"], "country": "GB", "certifications": []}
    body = client.post("/v1/decisions", json=uk).get_json()
    assert body["logged"] is True and body["decision"] == "allow"
    assert body["horizon"]["changes_on"] == "2031-12-28"  # the day after the UK decision expires
    stored = client.get(f"/v1/decisions/{body['decision_id']}").get_json()
    assert stored["horizon"] == body["horizon"]


def test_a_vendor_decision_always_carries_its_horizon_and_takes_a_scenario(client, db_path):
    client.put("/v1/vendors/acme-crm", json=ACME)
    ask = {
        "exporter": CUSTOMER,
        "as_of": "2027-01-10",
        "products": ["crm"],
        "agreement": {"location_consent": True},
    }
    real = client.post("/v1/vendors/acme-crm/decisions", json=ask).get_json()
    assert "horizon" in real and real["logged"] is True
    what_if = client.post("/v1/vendors/acme-crm/decisions", json={**ask, "scenario": DPF_FALLS}).get_json()
    assert what_if["logged"] is False and what_if["horizon"]["changes_on"] == "2027-03-01"
    assert what_if["horizon"]["because"][0]["record"] == "adequacy:us-dpf-2023-1795"
    assert logged_ids(db_path) == [real["decision_id"]]


# ------------------------------------------------------------------ DOORGIFTE_DATA_PATH


def _data_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(REPO / "adequacy_data", data)
    return data


def test_the_data_path_replaces_the_shipped_reference_data(tmp_path):
    data = _data_copy(tmp_path)
    adequacy = yaml.safe_load((data / "adequacy.yaml").read_text())
    dpf = next(d for d in adequacy["decisions"] if d["id"] == "us-dpf-2023-1795")
    dpf["invalidated"] = "2027-03-01"
    (data / "adequacy.yaml").write_text(yaml.safe_dump(adequacy, sort_keys=False, allow_unicode=True))
    config = Config.from_env({"DOORGIFTE_DATA_PATH": str(data)})
    assert config.data_path == data
    engine = config.engine()
    assert engine.evaluate(us_processor()).decision == "conditions"
    assert engine.reference.version != Engine.load().reference.version


def test_a_broken_data_path_fails_at_start_naming_file_and_line(tmp_path):
    data = _data_copy(tmp_path)
    text = (data / "adequacy.yaml").read_text().replace("scope: {kind: full}", "scope: {kind: most}", 1)
    (data / "adequacy.yaml").write_text(text)
    with pytest.raises(LoadError) as caught:
        Config.from_env({"DOORGIFTE_DATA_PATH": str(data)}).check_rule_base()
    assert any("adequacy.yaml" in str(p) for p in caught.value.problems)


def test_a_data_path_that_is_no_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="DOORGIFTE_DATA_PATH"):
        Config.from_env({"DOORGIFTE_DATA_PATH": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("scenario", "loc"),
    [
        ("DPF annulled", "scenario"),
        (
            {"adequacy_end": [{"decision": "us-dpf-2099", "on": "2027-03-01"}]},
            "scenario.adequacy_end[0].decision",
        ),
    ],
)
def test_a_bad_batch_scenario_fails_the_batch_naming_the_field(client, db_path, scenario, loc):
    response = client.post("/v1/decisions/batch", json={"flows": [us_processor()], "scenario": scenario})
    assert assert_problem(response, 422, "invalid_request")["errors"][0]["loc"] == loc
    assert logged_ids(db_path) == []
