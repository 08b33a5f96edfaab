"""`doorgifte guardrails aws|azure|gcp`: the provider's own enforcement document for the regions a
policy allows (SPEC section 14; `service.guardrails`, docs/guardrails.md).

- `--policy ID` (default gdpr; ids joined by commas combine), `--as-of D` (default today, UTC).
- `--include-conditions`: also the regions usable with conditions (default: only `yes`).
- `--partition P`: the catalogue partition (default commercial; AWS's names such as `aws-us-gov`
  are taken too). One SCP, one Azure cloud, one organisation policy each cover one partition.
- aws: `--exempt-role ARN` (repeatable) exempts a role, e.g. break-glass. azure: `--definition
  locations|resource-groups`. gcp: `--org ID` (default the placeholder ORG_ID).
- `--output FILE` (default stdout). A summary goes to stderr.

Exit status: 0 written, 1 nothing written (no usable region, or the SCP over AWS's size limit),
2 usage (an unknown policy or partition, an option of another provider).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from service import guardrails, lookup
from service.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from service.config import Config

ORG_ID = re.compile(r"^[0-9]{1,32}$")
ROLE_ARN = re.compile(r"^arn:[a-z-]+:iam::[0-9*]+:role/\S+$")
#: options that belong to one provider, and their defaults
ONLY_FOR = {"exempt_role": "aws", "definition": "azure", "org": "gcp"}


def add_parser(sub: Any) -> None:
    help = (
        "write the provider's guardrail (AWS SCP, Azure Policy assignment, GCP organisation policy) "
        "for the regions a policy allows"
    )
    p = sub.add_parser("guardrails", help=help, description=help)
    p.add_argument("provider", choices=guardrails.PROVIDERS, metavar="aws|azure|gcp")
    p.add_argument(
        "--policy", default="gdpr", help="policy profile id, or ids joined by commas (default gdpr)"
    )
    p.add_argument(
        "--as-of", type=lookup.date_argument, help="judge the regions on this date (default today, UTC)"
    )
    p.add_argument(
        "--include-conditions",
        action="store_true",
        help="also allow the regions usable with conditions (default: only those usable outright)",
    )
    p.add_argument(
        "--partition",
        default=guardrails.DEFAULT_PARTITION,
        help="catalogue partition: " + ", ".join(lookup.PARTITIONS) + " (AWS names such as aws-us-gov too; "
        "default commercial)",
    )
    p.add_argument(
        "--exempt-role",
        action="append",
        metavar="ARN",
        help="aws: an IAM role ARN (pattern) the SCP does not apply to, e.g. break-glass; repeatable",
    )
    p.add_argument(
        "--definition",
        choices=tuple(guardrails.AZURE_DEFINITIONS),
        help='azure: assign the built-in "Allowed locations" (locations, default) or '
        '"Allowed locations for resource groups" (resource-groups)',
    )
    p.add_argument(
        "--org", metavar="ID", help="gcp: the numeric organisation id (default: the placeholder ORG_ID)"
    )
    p.add_argument("--output", type=Path, metavar="FILE", help="write the document here (default stdout)")
    p.set_defaults(func=cmd_guardrails)


def _err(text: str) -> None:
    print(f"doorgifte guardrails: {text}", file=sys.stderr)


def _usage_problem(args: argparse.Namespace) -> str | None:
    """An option of another provider, a malformed org id or role ARN; None when all is well."""
    for option, provider in ONLY_FOR.items():
        if getattr(args, option, None) and args.provider != provider:
            return f"--{option.replace('_', '-')} is for {provider} only"
    org = getattr(args, "org", None)
    if org is not None and not ORG_ID.match(org):
        return f"--org {org!r} is not an organisation id (digits, e.g. 123456789012)"
    for arn in getattr(args, "exempt_role", None) or ():
        if not ROLE_ARN.match(arn):
            return f"--exempt-role {arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME, * allowed)"
    return None


def cmd_guardrails(args: argparse.Namespace, config: Config) -> int:
    from service.commands import load_engine

    problem = _usage_problem(args)
    if problem:
        _err(problem)
        return EXIT_USAGE
    engine = load_engine(config)
    on = getattr(args, "as_of", None) or lookup.today_utc()
    raw_partition = getattr(args, "partition", None) or guardrails.DEFAULT_PARTITION
    aliases = lookup.AWS_PARTITIONS if args.provider == "aws" else None
    try:
        policy = lookup.policy(engine, getattr(args, "policy", None) or lookup.DEFAULT_POLICY)
        partition = (aliases or {}).get(raw_partition) or lookup.choice(
            raw_partition, lookup.PARTITIONS, "partition", lookup.AWS_PARTITIONS
        )
    except lookup.Unknown as exc:
        _err(exc.problem.msg + (f"; {exc.problem.hint}" if exc.problem.hint else ""))
        return EXIT_USAGE
    assert partition is not None
    try:
        doc = guardrails.document(
            engine,
            args.provider,
            on,
            policy,
            partition=partition,
            include_conditions=bool(getattr(args, "include_conditions", False)),
            exempt_roles=tuple(getattr(args, "exempt_role", None) or ()),
            definition=getattr(args, "definition", None) or "locations",
            org=getattr(args, "org", None) or guardrails.GCP_ORG_PLACEHOLDER,
        )
    except guardrails.GuardrailError as exc:
        _err(str(exc))
        return EXIT_PROBLEMS
    text = doc.text if doc.text.endswith("\n") else doc.text + "\n"
    output = getattr(args, "output", None)
    if output is not None and str(output) != "-":
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    _summary(doc)
    return EXIT_OK


def _summary(doc: guardrails.Document) -> None:
    s = doc.selection
    what = "usable or usable with conditions" if s.include_conditions else "usable"
    line = (
        f"{doc.kind}: {len(s.regions)} {s.partition} region(s) {what} under policy {s.policy} "
        f"on {s.as_of.isoformat()}"
    )
    if s.provider == "aws":
        line += f"; {len(doc.text.rstrip())} of {guardrails.AWS_SCP_MAX_CHARS:,} characters"
    _err(line)
    if s.conditional:
        _err(f"left out, usable with conditions (--include-conditions): {', '.join(s.conditional)}")
    if s.retired:
        _err(f"left out, retired by {s.as_of.isoformat()}: {', '.join(s.retired)}")
