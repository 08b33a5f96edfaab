"""`doorgifte guardrails aws|azure|gcp` (SPEC section 14): each document allows exactly the regions
`GET /v1/regions?provider=X&policy=P&usable=yes` answers, and has its provider's structure."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from service import commands, guardrails, guardrails_cli
from service.config import Config

ON = "2026-11-23"
POLICIES = ("gdpr", "eu-residency", "nl-gov")
PROVIDERS = ("aws", "azure", "gcp")
AZURE_ALLOWED_LOCATIONS = (
    "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c"
)
AZURE_ALLOWED_RG_LOCATIONS = (
    "/providers/Microsoft.Authorization/policyDefinitions/e765b5de-1225-4ba3-bd56-1ac6695af988"
)


@pytest.fixture(autouse=True)
def session_engine(engine, monkeypatch):
    monkeypatch.setattr(commands, "load_engine", lambda config: engine)


def parse(*argv: str) -> argparse.Namespace:
    """The command's own parser (`add_parser`), as `doorgifte` will mount it."""
    parser = argparse.ArgumentParser(prog="doorgifte")
    guardrails_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["guardrails", *argv])


def run(tmp_path: Path, *argv: str) -> tuple[int, str | None]:
    """Exit status and the written document (None when no file was written)."""
    out = tmp_path / "guardrail.out"
    out.unlink(missing_ok=True)
    code = guardrails_cli.cmd_guardrails(parse(*argv, "--output", str(out)), Config())
    return code, out.read_text(encoding="utf-8") if out.exists() else None


def allowed(provider: str, text: str) -> list[str]:
    """The regions a document allows, read from the document itself (not through service code)."""
    if provider == "aws":
        statement = json.loads(text)["Statement"][0]
        return statement["Condition"]["StringNotEquals"]["aws:RequestedRegion"]
    if provider == "azure":
        return json.loads(text)["properties"]["parameters"]["listOfAllowedLocations"]["value"]
    values = yaml.safe_load(text)["spec"]["rules"][0]["values"]["allowedValues"]
    assert all(v.startswith("in:") and v.endswith("-locations") for v in values), values
    return [v[len("in:") : -len("-locations")] for v in values]


def api_regions(
    client, provider: str, policy: str, usable: str, partition: str = "commercial"
) -> list[dict[str, Any]]:
    query = f"provider={provider}&policy={policy}&usable={usable}&partition={partition}&as_of={ON}"
    response = client.get(f"/v1/regions?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["regions"]


def not_retired(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(r["region"] for r in rows if r["retired"] is None or r["retired"] > ON)


# ---------------------------------------------------------------- the comparison the issue asks for


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_document_allows_exactly_the_usable_regions_the_api_lists(client, tmp_path, provider, policy):
    expected = not_retired(api_regions(client, provider, policy, "yes"))
    code, text = run(tmp_path, provider, "--policy", policy, "--as-of", ON)
    if not expected:  # nl-gov allows no AWS region outright: nothing is written
        assert (code, text) == (1, None)
        return
    assert code == 0 and text is not None
    regions = allowed(provider, text)
    assert regions == sorted(regions) and len(set(regions)) == len(regions)
    assert regions == expected


def test_gcp_partition_is_the_whole_provider_so_the_lists_are_the_unfiltered_ones(client, tmp_path):
    everything = client.get(f"/v1/regions?provider=gcp&policy=gdpr&usable=yes&as_of={ON}").get_json()[
        "regions"
    ]
    code, text = run(tmp_path, "gcp", "--as-of", ON)
    assert code == 0 and text is not None
    assert allowed("gcp", text) == sorted(r["region"] for r in everything)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_include_conditions_adds_the_regions_usable_with_conditions(client, tmp_path, provider):
    expected = not_retired(
        api_regions(client, provider, "nl-gov", "yes") + api_regions(client, provider, "nl-gov", "conditions")
    )
    code, text = run(tmp_path, provider, "--policy", "nl-gov", "--as-of", ON, "--include-conditions")
    assert code == 0 and text is not None
    assert allowed(provider, text) == expected
    assert len(expected) > len(api_regions(client, provider, "nl-gov", "yes"))


def test_a_combined_policy_is_judged_as_the_api_judges_it(client, tmp_path):
    expected = not_retired(api_regions(client, "azure", "eu-residency,nl-gov", "yes"))
    code, text = run(tmp_path, "azure", "--policy", "eu-residency,nl-gov", "--as-of", ON)
    assert code == 0 and text is not None
    assert allowed("azure", text) == expected
    assert json.loads(text)["properties"]["metadata"]["doorgifte"]["policy"] == "eu-residency+nl-gov"


# ---------------------------------------------------------------- partitions and retired regions


def test_aws_defaults_to_the_commercial_partition_and_takes_aws_partition_names(client, tmp_path):
    sovereign = api_regions(client, "aws", "gdpr", "yes", "sovereign")
    assert [r["region"] for r in sovereign] == ["eusc-de-east-1"]  # usable, but another partition
    code, text = run(tmp_path, "aws", "--as-of", ON)
    assert text is not None and "eusc-de-east-1" not in allowed("aws", text)
    code, text = run(tmp_path, "aws", "--as-of", ON, "--partition", "aws-eusc")
    assert code == 0 and text is not None and allowed("aws", text) == ["eusc-de-east-1"]
    government = api_regions(client, "aws", "gdpr", "conditions", "government")
    code, text = run(tmp_path, "aws", "--as-of", ON, "--partition", "aws-us-gov", "--include-conditions")
    assert code == 0 and text is not None
    assert (
        allowed("aws", text) == sorted(r["region"] for r in government) == ["us-gov-east-1", "us-gov-west-1"]
    )


def test_regions_retired_by_the_date_are_left_out(client, tmp_path, capsys):
    code, text = run(tmp_path, "azure", "--partition", "sovereign", "--as-of", "2020-01-01")
    assert code == 0 and text is not None
    assert allowed("azure", text) == ["germanycentral", "germanynortheast"]
    # after 2021-10-29 the API still judges them (a verdict is about the place), the guardrail drops them
    assert {r["region"] for r in api_regions(client, "azure", "gdpr", "yes", "sovereign")} == {
        "germanycentral",
        "germanynortheast",
    }
    code, text = run(tmp_path, "azure", "--partition", "sovereign", "--as-of", ON)
    assert (code, text) == (1, None)
    assert "germanycentral, germanynortheast would be, but were retired" in capsys.readouterr().err


# ---------------------------------------------------------------- AWS


@pytest.mark.parametrize("policy", POLICIES)
def test_the_aws_scp_has_the_documented_structure_and_fits_the_size_limit(tmp_path, policy):
    code, text = run(tmp_path, "aws", "--policy", policy, "--as-of", ON, "--include-conditions")
    assert code == 0 and text is not None
    document = text.rstrip("\n")
    assert len(document) <= 5120 and len(document.encode()) <= 5120
    assert document == json.dumps(json.loads(document), separators=(",", ":"))  # minified as checked
    scp = json.loads(document)
    assert scp["Version"] == "2012-10-17" and len(scp["Statement"]) == 1
    statement = scp["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Resource"] == "*"
    assert "Action" not in statement
    exempt = set(statement["NotAction"])
    assert {
        "iam:*",
        "organizations:*",
        "cloudfront:*",
        "route53:*",
        "support:*",
        "sts:*",
        "budgets:*",
    } <= exempt
    assert not any(a.startswith(("ec2:*", "s3:*", "rds:", "dynamodb:")) for a in exempt)
    assert set(statement["Condition"]) == {"StringNotEquals"}


def test_the_aws_scp_can_exempt_a_break_glass_role(tmp_path):
    role = "arn:aws:iam::*:role/BreakGlass"
    code, text = run(tmp_path, "aws", "--as-of", ON, "--exempt-role", role)
    assert code == 0 and text is not None
    condition = json.loads(text)["Statement"][0]["Condition"]
    assert condition["ArnNotLike"] == {"aws:PrincipalARN": [role]}


def test_an_scp_over_the_size_limit_is_refused_and_not_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(guardrails, "AWS_SCP_MAX_CHARS", 600)
    code, text = run(tmp_path, "aws", "--as-of", ON)
    assert (code, text) == (1, None)
    err = capsys.readouterr().err
    assert "over AWS's limit of 600" in err and "characters minified" in err


def test_no_usable_region_writes_nothing_and_says_how_to_add_conditional_ones(tmp_path, capsys):
    code, text = run(tmp_path, "aws", "--policy", "nl-gov", "--as-of", ON)
    assert (code, text) == (1, None)
    assert "--include-conditions" in capsys.readouterr().err


# ---------------------------------------------------------------- Azure


def test_the_azure_assignment_has_the_documented_structure(tmp_path):
    code, text = run(tmp_path, "azure", "--policy", "eu-residency", "--as-of", ON)
    assert code == 0 and text is not None
    properties = json.loads(text)["properties"]
    assert properties["policyDefinitionId"] == AZURE_ALLOWED_LOCATIONS
    assert properties["enforcementMode"] == "Default"
    assert set(properties["parameters"]) == {"listOfAllowedLocations"}
    assert "westeurope" in properties["parameters"]["listOfAllowedLocations"]["value"]
    assert len(properties["displayName"]) <= 128 and properties["nonComplianceMessages"][0]["message"]


def test_the_azure_resource_group_definition_gets_the_same_regions(tmp_path):
    _, locations = run(tmp_path, "azure", "--as-of", ON)
    code, groups = run(tmp_path, "azure", "--as-of", ON, "--definition", "resource-groups")
    assert code == 0 and locations is not None and groups is not None
    assert json.loads(groups)["properties"]["policyDefinitionId"] == AZURE_ALLOWED_RG_LOCATIONS
    assert allowed("azure", groups) == allowed("azure", locations)


# ---------------------------------------------------------------- Google Cloud


def test_the_gcp_org_policy_has_the_documented_structure(tmp_path):
    code, text = run(tmp_path, "gcp", "--policy", "eu-residency", "--as-of", ON)
    assert code == 0 and text is not None
    policy = yaml.safe_load(text)
    assert policy["name"] == "organizations/ORG_ID/policies/gcp.resourceLocations"
    assert set(policy) == {"name", "spec"} and len(policy["spec"]["rules"]) == 1
    assert "in:europe-west4-locations" in policy["spec"]["rules"][0]["values"]["allowedValues"]
    assert "Replace ORG_ID" in text
    code, text = run(tmp_path, "gcp", "--as-of", ON, "--org", "123456789012")
    assert text is not None and yaml.safe_load(text)["name"].startswith("organizations/123456789012/")
    assert "ORG_ID" not in text


def test_without_output_the_document_goes_to_stdout_and_the_summary_to_stderr(capsys):
    code = guardrails_cli.cmd_guardrails(parse("gcp", "--policy", "nl-gov", "--as-of", ON), Config())
    out, err = capsys.readouterr()
    assert code == 0
    assert allowed("gcp", out) == ["europe-west4"]
    assert "1 commercial region(s) usable under policy nl-gov" in err


# ---------------------------------------------------------------- usage


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["aws", "--org", "123"], "--org is for gcp only"),
        (["gcp", "--exempt-role", "arn:aws:iam::*:role/X"], "--exempt-role is for aws only"),
        (["aws", "--definition", "resource-groups"], "--definition is for azure only"),
        (["gcp", "--org", "my-org"], "not an organisation id"),
        (["aws", "--exempt-role", "BreakGlass"], "not an IAM role ARN"),
        (["aws", "--policy", "gdrp"], "gdpr"),
        (["azure", "--partition", "aws-us-gov"], "partition=government"),
        (["gcp", "--partition", "public"], "commercial, government"),
    ],
)
def test_usage_mistakes_are_status_2_with_a_message(tmp_path, capsys, argv, message):
    code, text = run(tmp_path, *argv)
    assert (code, text) == (2, None)
    assert message in capsys.readouterr().err


def test_the_parser_refuses_another_provider_and_a_date_before_the_gdpr(capsys):
    with pytest.raises(SystemExit):
        parse("oci")
    with pytest.raises(SystemExit):
        parse("aws", "--as-of", "2017-01-01")
    assert "2018-05-25" in capsys.readouterr().err
