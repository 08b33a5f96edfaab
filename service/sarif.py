"""A plan report as SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), the format
code-scanning tools (GitHub, GitLab) read: one result per finding of a judged resource, its
rule the finding's code, its level from the effect (a denial is an `error`, a condition a
`warning`), located at the plan file with the resource's address as a logical location."""

from __future__ import annotations

from importlib import metadata
from typing import Any

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/doorgifte/doorgifte"
LEVEL = {"deny": "error", "condition": "warning"}


def _version() -> str:
    try:
        return metadata.version("doorgifte")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def sarif(report: dict[str, Any], plan_uri: str) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for resource in report["results"]:
        for finding in resource.get("findings", []):
            code = finding["code"]
            rules.setdefault(
                code,
                {
                    "id": code,
                    "shortDescription": {"text": code},
                    "properties": {"basis": finding["basis"]},
                },
            )
            results.append(_result(resource, finding, plan_uri))
    driver = {"name": "doorgifte", "version": _version(), "informationUri": INFORMATION_URI}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {**driver, "rules": list(rules.values())}}, "results": results}],
    }


def _result(resource: dict[str, Any], finding: dict[str, Any], plan_uri: str) -> dict[str, Any]:
    basis = "; ".join(finding["basis"])
    return {
        "ruleId": finding["code"],
        "level": LEVEL[finding["effect"]],
        "message": {"text": f"{resource['address']}: {finding['message']} ({basis})"},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": plan_uri}},
                "logicalLocations": [{"fullyQualifiedName": resource["address"], "kind": "resource"}],
            }
        ],
        "partialFingerprints": {
            "doorgifte/v1": f"{resource['address']}|{finding['code']}|{finding['location']}"
        },
        "properties": {"decision": resource["decision"], "places": resource["places"]},
    }
