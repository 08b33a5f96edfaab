"""A Terraform plan judged per resource (SPEC section 14): `doorgifte check-plan` and
`POST /v1/plans/check`, against the region verdicts of the same engine."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from engine import catalogue
from service import plan_cli, plans
from service.sarif import sarif
from service.terraform import multi_region_countries, planned_resources
from tests.service.test_cli_commands import run

PLANS = Path(__file__).parent / "data" / "plans"
THREE = json.loads((PLANS / "three_providers.json").read_text())
EXPORTER = {"name": "Gemeente Utrecht", "country": "NL", "public_body": True}
AS_OF = dt.date(2026, 11, 1)
POLICIES = ("gdpr", "eu-residency", "nl-gov")
RANK = {"allow": 0, "conditions": 1, "deny": 2}


def expected(engine, policy: str) -> dict[str, str]:
    """Per judged resource, the worst region verdict of its places (`GET /v1/regions/...` alone),
    conditions for a place the plan does not state; multi-region EU is every member in the EEA."""
    out = {}
    for resource in planned_resources(THREE, engine.reference):
        if resource.skipped:
            continue
        if resource.unknown or not resource.places:
            out[resource.address] = "conditions"
            continue
        verdicts = [
            verdict
            for place in resource.places
            for verdict in (
                [country_verdict(engine, c, policy) for c in multi_region_countries(place) or ()]
                if place.startswith("multi:")
                else [catalogue.region(engine, resource.provider, place, AS_OF, policy)["decision"]]
            )
        ]
        out[resource.address] = max(verdicts, key=RANK.__getitem__)
    return out


def country_verdict(engine, country: str, policy: str) -> str:
    """Google holding the data in one country of a multi-region, set up as for a region's verdict."""
    flow = catalogue.region_flow(engine, "gcp", "europe-west4", AS_OF, policy)
    flow["exporter"] = EXPORTER
    flow["recipient"] = plans.processor(engine, "gcp", EXPORTER, AS_OF, [{"country": country}]).recipient
    return str(engine.evaluate(flow).decision)


@pytest.mark.parametrize("policy", POLICIES)
def test_a_plan_of_three_providers_is_judged_per_resource(engine, policy):
    """Two AWS provider aliases, a variable region, an unknown region, Azure by display name and
    Google zones, multi- and dual-regions: each resource's decision is its places' verdict."""
    report = plans.check(engine, THREE, EXPORTER, policy, {}, AS_OF)
    decided = {r["address"]: r["decision"] for r in report["results"] if "skipped" not in r}
    assert decided == expected(engine, policy)
    assert report["decision"] == max(decided.values(), key=RANK.__getitem__)
    assert {r["address"] for r in report["results"] if "skipped" in r} == {
        "aws_iam_role.app",
        "random_id.suffix",
    }
    assert report["unknown"] == 1 and report["skipped"] == 2 and report["resources"] == 13


def test_the_places_come_from_aliases_variables_and_display_names(engine):
    places = {r.address: (r.places, r.place_source) for r in planned_resources(THREE, engine.reference)}
    assert places["aws_s3_bucket.customers"] == (("eu-west-1",), "provider aws (var.region)")
    assert places["aws_s3_bucket.archive"][0] == ("eu-central-1",)  # alias aws.eu
    assert places["aws_dynamodb_table.sessions"][0] == ("us-east-1",)  # alias aws.us


def test_findings_point_at_their_resource_and_cite_the_law(engine):
    report = plans.check(engine, THREE, EXPORTER, "eu-residency", {}, AS_OF)
    by_address = {r["address"]: r for r in report["results"]}
    us = by_address["aws_dynamodb_table.sessions"]
    assert us["decision"] == "deny"
    assert "policy.location_outside_eea" in [f["code"] for f in us["findings"]]
    unknown = by_address["aws_s3_bucket.replica"]
    assert [f["code"] for f in unknown["findings"]] == [plans.UNKNOWN_CODE]
    assert "aws_s3_bucket.replica" in unknown["findings"][0]["message"]
    assert all(f["basis"] for r in report["results"] for f in r.get("findings", []))


def test_an_unknown_place_is_never_a_pass(engine):
    for name in ("unknown_places.json",):
        plan = json.loads((PLANS / name).read_text())
        report = plans.check(engine, plan, EXPORTER, "gdpr", {}, AS_OF)
        for resource in report["results"]:
            if "skipped" in resource:
                continue
            if not resource["places"] or any(f["code"] == plans.UNKNOWN_CODE for f in resource["findings"]):
                assert resource["decision"] != "allow", resource


def test_resources_in_the_same_places_share_one_evaluation(engine, monkeypatch):
    calls = []
    original = engine.evaluate
    monkeypatch.setattr(engine, "evaluate", lambda payload: calls.append(payload) or original(payload))
    plans.check(engine, THREE, EXPORTER, "gdpr", {}, AS_OF)
    judged = {
        (r.provider, r.places)
        for r in planned_resources(THREE, engine.reference)
        if not r.skipped and r.places and not r.unknown
    }
    assert len(calls) == len(judged) < 11


def test_sarif_has_a_result_per_finding_at_its_address(engine):
    report = plans.check(engine, THREE, EXPORTER, "eu-residency", {}, AS_OF)
    log = sarif(report, "plan.json")
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["name"] == "doorgifte"
    findings = [(r["address"], f) for r in report["results"] for f in r.get("findings", [])]
    assert len(run_["results"]) == len(findings)
    rule_ids = {rule["id"] for rule in run_["tool"]["driver"]["rules"]}
    for result, (address, finding) in zip(run_["results"], findings, strict=True):
        assert result["ruleId"] == finding["code"] in rule_ids
        assert result["level"] == {"deny": "error", "condition": "warning"}[finding["effect"]]
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == address
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "plan.json"
        assert address in result["message"]["text"]


@pytest.mark.parametrize(
    ("policy", "fail_on", "status"),
    [
        ("gdpr", "conditions", 10),
        ("gdpr", "deny", 0),
        ("eu-residency", "deny", 20),
        ("eu-residency", "conditions", 20),
    ],
)
def test_check_plan_exit_statuses(capsys, tmp_path, policy, fail_on, status):
    exporter = tmp_path / "exporter.yaml"
    exporter.write_text("name: Gemeente Utrecht\ncountry: NL\npublic_body: true\n")
    args = [
        "check-plan",
        str(PLANS / "three_providers.json"),
        "--exporter",
        str(exporter),
        "--policy",
        policy,
    ]
    code, out, _ = run(capsys, *args, "--fail-on", fail_on, "--as-of", AS_OF.isoformat())
    assert code == status
    assert "aws_s3_bucket.replica" in out and "plan.region_unknown" in out
    code, out, _ = run(capsys, *args, "--format", "sarif", "--as-of", AS_OF.isoformat())
    assert json.loads(out)["runs"][0]["results"]


def test_check_plan_refuses_what_is_not_a_plan(capsys, tmp_path):
    exporter = tmp_path / "exporter.yaml"
    exporter.write_text("name: X\ncountry: NL\n")
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"format_version": "1.0", "values": {}}))
    code, _, err = run(capsys, "check-plan", str(state), "--exporter", str(exporter))
    assert code == plan_cli.EXIT_USAGE and "planned_values" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\ncountry: Atlantis\n")
    code, _, err = run(capsys, "check-plan", str(PLANS / "three_providers.json"), "--exporter", str(bad))
    assert code == plan_cli.EXIT_USAGE and "Atlantis" in err


def test_the_http_endpoint_answers_the_same_report(client, engine):
    body = {"plan": THREE, "exporter": EXPORTER, "policy": "nl-gov", "as_of": AS_OF.isoformat()}
    answer = client.post("/v1/plans/check", json=body)
    assert answer.status_code == 200
    assert answer.get_json() == plans.check(engine, THREE, EXPORTER, "nl-gov", {}, AS_OF)
    assert client.post("/v1/plans/check", json={**body, "format": "sarif"}).get_json()["version"] == "2.1.0"
    refused = client.post("/v1/plans/check", json={**body, "plan": {"values": {}}})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["loc"] == "plan"
    assert client.post("/v1/plans/check", json={**body, "exporter": {"name": "x"}}).status_code == 422
    assert client.get("/v1/decisions").get_json()["decisions"] == []  # nothing logged


def test_places_are_checked_against_the_judging_engines_regions(engine):
    """A plan is read against the reference data of the engine that judges it
    (`DOORGIFTE_DATA_PATH` included): its own region records, not a second catalogue."""
    import dataclasses

    aws = engine.reference.providers["aws"]
    ireland = [r for r in aws.regions if r.id == "eu-west-1"]
    only_ireland = dataclasses.replace(
        engine.reference, providers={"aws": aws.model_copy(update={"regions": ireland, "unconfirmed": []})}
    )
    places = {r.address: r for r in planned_resources(THREE, only_ireland)}
    assert places["aws_s3_bucket.customers"].places == ("eu-west-1",)
    assert places["aws_s3_bucket.archive"].unknown and not places["aws_s3_bucket.archive"].places
    assert places["azurerm_storage_account.main"].unknown  # no Azure regions in that data
    assert {r.address: r.places for r in planned_resources(THREE, engine.reference)}[
        "aws_s3_bucket.archive"
    ] == ("eu-central-1",)


def test_the_report_states_each_providers_set_up_and_judges_as_the_region_verdict(engine):
    """A resource is judged with its provider as it contracts, exactly as the region's verdict, and
    the report states that set-up per provider (SPEC section 14)."""
    report = plans.check(engine, THREE, EXPORTER, "gdpr", {}, AS_OF)
    assert sorted(report["providers"]) == ["aws", "azure", "gcp"]
    aws = report["providers"]["aws"]
    assert aws["terms"]["entity"] == "Amazon Web Services EMEA SARL" and "module 2" in aws["assumption"]
    assert report["providers"]["azure"]["terms"]["not_credited"] == ["entity", "transfers", "dpf"]
    sessions = next(r for r in report["results"] if r["address"] == "aws_dynamodb_table.sessions")
    region = catalogue.region(engine, "aws", "us-east-1", AS_OF, "gdpr")
    assert [f["code"] for f in sessions["findings"]] == region["conditions"] == ["transfer.assess_impact"]
    assert sessions["findings"][0]["party"] == "Amazon Web Services EMEA SARL"
    dutch = plans.check(engine, THREE, EXPORTER, "gdpr", {}, AS_OF, "nl")
    assert "verwerkersovereenkomst" in dutch["providers"]["aws"]["assumption"]
