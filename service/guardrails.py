"""Cloud guardrails (SPEC section 14): the provider's own enforcement document for the regions a
policy allows, so that the allow-list of `GET /v1/regions` is enforced where resources are made.

- AWS: a service control policy (AWS Organizations) that denies every action whose
  `aws:RequestedRegion` is not on the list, global services exempted (`AWS_GLOBAL_ACTIONS`),
  minified and checked against AWS's size limit (`AWS_SCP_MAX_CHARS`).
- Azure: a policy assignment (the body of a PUT of Microsoft.Authorization/policyAssignments) of
  the built-in "Allowed locations" definition, or of "Allowed locations for resource groups".
- Google Cloud: an organisation policy for `constraints/gcp.resourceLocations`, as
  `gcloud org-policies set-policy` reads it (YAML), one `in:REGION-locations` value group a region.

Which regions: exactly the rows of `service.lookup.allow_list` (the list `GET /v1/regions`
answers) for the provider, the policy and the date, whose verdict is `yes`, in one partition of
the catalogue (`commercial` by default: an SCP, an Azure cloud and an organisation policy each
apply to one partition), without regions retired on or before the date. `include_conditions`
adds the regions usable `with_conditions`: their conditions (standard clauses signed, a transfer
impact assessment, written consent) are promises a guardrail cannot check, so by default a
guardrail enforces only what the policy allows outright. Sources and dates: docs/guardrails.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from engine.api import Engine
from service import lookup

PROVIDERS = ("aws", "azure", "gcp")
DEFAULT_PARTITION = "commercial"

# ---------------------------------------------------------------- AWS

#: AWS Organizations quota "Maximum size of a policy document", service control policies: 5,120
#: characters (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html,
#: read 2026-12-02; one version of the page says bytes, so both are checked). Secondary reports say
#: AWS doubled it to 10,240 on 2026-05-15; no AWS page confirming that was found, so the lower stays.
AWS_SCP_MAX_CHARS = 5120
#: The NotAction list of AWS's example SCP "Deny access to AWS based on the requested AWS Region"
#: (AWS Organizations User Guide, General examples,
#: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html,
#: read 2026-12-02), taken from AWS's own copy of that example,
#: https://github.com/aws-samples/service-control-policy-examples/blob/35a50b0948bda5ebeb05ef4c6fc5df4f48cd0682/Region-controls/Deny-access-to-AWS-based-on-the-requested-AWS-region.json
#: (file last changed d6e8a431, 2025-10-29). Global services (IAM, Organizations, CloudFront,
#: Route 53, Support, STS, billing) answer from one endpoint, mostly in us-east-1, so denying
#: them outside the list would deny them everywhere; the example says it may miss newer ones.
AWS_GLOBAL_ACTIONS = (
    "a4b:*",
    "acm:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "chime:*",
    "cloudfront:*",
    "config:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "importexport:*",
    "kms:*",
    "mobileanalytics:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*",
    "shield:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
    "wellarchitected:*",
)
AWS_SID = "DenyOutsideAllowedRegions"

# ---------------------------------------------------------------- Azure

#: built-in policy definitions, as Azure/azure-policy states them (commit f4a50bac, 2026-04-29:
#: built-in-policies/policyDefinitions/General/AllowedLocations_Deny.json and
#: ResourceGroupAllowedLocations_Deny.json, version 1.1.0, parameter `listOfAllowedLocations`,
#: effect Deny by default); the first excludes resource groups, the `global` location and
#: Microsoft.AzureActiveDirectory/b2cDirectories
AZURE_DEFINITIONS = {
    "locations": (
        "Allowed locations",
        "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c",
    ),
    "resource-groups": (
        "Allowed locations for resource groups",
        "/providers/Microsoft.Authorization/policyDefinitions/e765b5de-1225-4ba3-bd56-1ac6695af988",
    ),
}
AZURE_PARAMETER = "listOfAllowedLocations"

# ---------------------------------------------------------------- Google Cloud

GCP_CONSTRAINT = "constraints/gcp.resourceLocations"
#: the organisation id when none is given: a placeholder the user replaces (`--org`)
GCP_ORG_PLACEHOLDER = "ORG_ID"


class GuardrailError(ValueError):
    """No document can be written: no region to allow, or one over the provider's size limit."""


@dataclass(frozen=True)
class Selection:
    """The regions a guardrail allows, and what it was judged with."""

    provider: str
    policy: str
    as_of: dt.date
    partition: str
    include_conditions: bool
    reference_version: str
    #: region ids, sorted
    regions: tuple[str, ...]
    #: usable regions left out because they were retired on or before `as_of`
    retired: tuple[str, ...]
    #: regions usable with conditions, left out (none when `include_conditions`)
    conditional: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    selection: Selection
    #: the document as written
    text: str
    #: what it is, for the command's summary
    kind: str


def select(
    engine: Engine,
    provider: str,
    on: dt.date,
    policy: str,
    partition: str = DEFAULT_PARTITION,
    include_conditions: bool = False,
) -> Selection:
    """The regions of `provider` in `partition` usable under `policy` on `on` (`policy` a loaded
    profile id, see `service.lookup.policy`), as `GET /v1/regions?usable=yes` lists them."""
    if provider not in PROVIDERS:
        raise ValueError(f"no guardrail for provider {provider!r}")
    yes = lookup.allow_list(engine, [provider], on, policy, "yes", partition)
    conditional = lookup.allow_list(engine, [provider], on, policy, "conditions", partition)
    rows = yes + conditional if include_conditions else yes
    retired = sorted(r["region"] for r in rows if _retired(r, on))
    return Selection(
        provider=provider,
        policy=policy,
        as_of=on,
        partition=partition,
        include_conditions=include_conditions,
        reference_version=engine.reference.version,
        regions=tuple(sorted(r["region"] for r in rows if not _retired(r, on))),
        retired=tuple(retired),
        conditional=() if include_conditions else tuple(sorted(r["region"] for r in conditional)),
    )


def _retired(row: dict[str, Any], on: dt.date) -> bool:
    return row["retired"] is not None and dt.date.fromisoformat(row["retired"]) <= on


def _require_regions(selection: Selection) -> None:
    if selection.regions:
        return
    what = "usable" if not selection.include_conditions else "usable, with or without conditions,"
    msg = (
        f"no {selection.provider} region in partition {selection.partition} is {what} under policy "
        f"{selection.policy} on {selection.as_of.isoformat()}: a guardrail would allow no region"
    )
    if selection.retired:
        msg += f"; {', '.join(selection.retired)} would be, but were retired by then"
    if selection.conditional:
        msg += (
            f"; {len(selection.conditional)} are usable with conditions (--include-conditions adds them "
            "once their conditions are met)"
        )
    raise GuardrailError(msg)


# ---------------------------------------------------------------- the documents


def aws_scp(selection: Selection, exempt_roles: Sequence[str] = ()) -> str:
    """A service control policy, minified (as it counts against the limit): deny every action but
    the global ones when `aws:RequestedRegion` is not a listed region; `exempt_roles` (IAM role ARN
    patterns, e.g. a break-glass role) are exempted by `ArnNotLike aws:PrincipalARN`, as AWS's
    example does. GuardrailError when no region is usable or the text is over the limit."""
    _require_regions(selection)
    condition: dict[str, Any] = {"StringNotEquals": {"aws:RequestedRegion": list(selection.regions)}}
    if exempt_roles:
        condition["ArnNotLike"] = {"aws:PrincipalARN": list(exempt_roles)}
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": AWS_SID,
                "Effect": "Deny",
                "NotAction": list(AWS_GLOBAL_ACTIONS),
                "Resource": "*",
                "Condition": condition,
            }
        ],
    }
    text = json.dumps(policy, separators=(",", ":"), ensure_ascii=False)
    size = max(len(text), len(text.encode("utf-8")))
    if size > AWS_SCP_MAX_CHARS:
        raise GuardrailError(
            f"the service control policy is {size} characters minified, over AWS's limit of "
            f"{AWS_SCP_MAX_CHARS:,} for one SCP ({len(selection.regions)} regions, "
            f"{len(AWS_GLOBAL_ACTIONS)} exempted global actions, {len(exempt_roles)} exempted roles): "
            "list fewer regions (another --partition, no --include-conditions) or exempted roles"
        )
    return text


def azure_assignment(selection: Selection, definition: str = "locations") -> str:
    """The body of a policy assignment (PUT .../providers/Microsoft.Authorization/policyAssignments/
    {name}) of the built-in definition `definition` (a key of AZURE_DEFINITIONS) with the regions
    as `listOfAllowedLocations`, enforced (effect Deny, the definitions' default)."""
    _require_regions(selection)
    title, definition_id = AZURE_DEFINITIONS[definition]
    on = selection.as_of.isoformat()
    assignment = {
        "properties": {
            "displayName": f"{title}: policy {selection.policy} on {on}"[:128],
            "description": (
                f"Azure regions where a processor may hold personal data under policy {selection.policy} "
                f"on {on}{' (with conditions too)' if selection.include_conditions else ''}, "
                f"written by doorgifte guardrails from reference data {selection.reference_version}."
            )[:512],
            "policyDefinitionId": definition_id,
            "enforcementMode": "Default",
            "parameters": {AZURE_PARAMETER: {"value": list(selection.regions)}},
            "nonComplianceMessages": [
                {
                    "message": f"Location not allowed: policy {selection.policy} allows personal data "
                    f"only in {len(selection.regions)} listed Azure regions (doorgifte guardrails, {on})."
                }
            ],
            "metadata": {
                "doorgifte": {
                    "policy": selection.policy,
                    "asOf": on,
                    "partition": selection.partition,
                    "includeConditions": selection.include_conditions,
                    "referenceData": selection.reference_version,
                }
            },
        }
    }
    return json.dumps(assignment, indent=2, ensure_ascii=False) + "\n"


def gcp_value(region: str) -> str:
    """The value group of a region's locations (the region and its zones): `in:REGION-locations`,
    the form Google's "Restricting resource locations" page gives a region (`us-east1` is taken
    as `in:us-east1-locations`)."""
    return f"in:{region}-locations"


def gcp_org_policy(selection: Selection, org: str = GCP_ORG_PLACEHOLDER) -> str:
    """An organisation policy for `constraints/gcp.resourceLocations` in the YAML that
    `gcloud org-policies set-policy` reads: `allowedValues` are the regions' value groups.
    Multi-regions and dual-regions (EU, eur4) are not regions of the catalogue and stay denied."""
    _require_regions(selection)
    policy = {
        "name": f"organizations/{org}/policies/{GCP_CONSTRAINT.removeprefix('constraints/')}",
        "spec": {"rules": [{"values": {"allowedValues": [gcp_value(r) for r in selection.regions]}}]},
    }
    head = (
        f"# {GCP_CONSTRAINT}: Google Cloud regions where a processor may hold personal data under\n"
        f"# policy {selection.policy} on {selection.as_of.isoformat()}"
        f"{' (with conditions too)' if selection.include_conditions else ''}; written by doorgifte "
        f"guardrails from reference data {selection.reference_version}.\n"
    )
    if org == GCP_ORG_PLACEHOLDER:
        head += f"# Replace {GCP_ORG_PLACEHOLDER} with the numeric organisation id (or give --org).\n"
    return head + yaml.safe_dump(policy, sort_keys=False, default_flow_style=False)


def document(
    engine: Engine,
    provider: str,
    on: dt.date,
    policy: str,
    partition: str = DEFAULT_PARTITION,
    include_conditions: bool = False,
    exempt_roles: Sequence[str] = (),
    definition: str = "locations",
    org: str = GCP_ORG_PLACEHOLDER,
) -> Document:
    """The provider's enforcement document for the regions `select` chooses."""
    selection = select(engine, provider, on, policy, partition, include_conditions)
    if provider == "aws":
        return Document(selection, aws_scp(selection, exempt_roles), "AWS service control policy")
    if provider == "azure":
        kind = f'Azure Policy assignment of "{AZURE_DEFINITIONS[definition][0]}"'
        return Document(selection, azure_assignment(selection, definition), kind)
    return Document(
        selection, gcp_org_policy(selection, org), f"Google Cloud organisation policy for {GCP_CONSTRAINT}"
    )


def regions_of(provider: str, text: str) -> list[str]:
    """The region ids a written document allows (for tests and checks): its own list, read back."""
    if provider == "aws":
        statement = json.loads(text)["Statement"][0]
        return list(statement["Condition"]["StringNotEquals"]["aws:RequestedRegion"])
    if provider == "azure":
        return list(json.loads(text)["properties"]["parameters"][AZURE_PARAMETER]["value"])
    values = yaml.safe_load(text)["spec"]["rules"][0]["values"]["allowedValues"]
    return [v.removeprefix("in:").removesuffix("-locations") for v in values]
