"""`doorgifte check-plan PLAN.json --exporter FILE`: a Terraform plan judged in CI (SPEC 14).

Exit statuses as `evaluate`: 0 allow, 10 conditions, 20 deny (the worst resource); with
`--fail-on deny` conditions exit 0, so a pipeline stops only on a denial. 2: bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from service.commands import EXIT_USAGE
from service.config import Config


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "check-plan",
        help="judge every resource of a Terraform plan (terraform show -json) as its provider's location",
        description="judge every resource of a Terraform plan (terraform show -json) as a location "
        "of its cloud provider acting as the exporter's processor",
    )
    p.add_argument(
        "plan", metavar="PLAN.json", help="the output of terraform show -json PLANFILE; - for stdin"
    )
    p.add_argument(
        "--exporter",
        required=True,
        metavar="FILE",
        help='the exporter as JSON or YAML: {"name", "country", ...}',
    )
    p.add_argument("--policy", default="gdpr", help="a profile id, or ids joined by commas")
    p.add_argument("--as-of", type=dt.date.fromisoformat)
    p.add_argument("--lang", choices=("en", "nl"), default="en")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    p.add_argument("--fail-on", choices=("conditions", "deny"), default="conditions")
    p.set_defaults(func=cmd_check_plan)


def cmd_check_plan(args: argparse.Namespace, config: Config) -> int:
    import yaml

    from engine.errors import RequestInvalid
    from service import plans
    from service.commands import load_engine
    from service.sarif import sarif
    from service.terraform import PlanError, read_plan

    try:
        raw = sys.stdin.buffer.read() if args.plan == "-" else Path(args.plan).read_bytes()
        plan = read_plan(raw)
        exporter = yaml.safe_load(Path(args.exporter).read_text(encoding="utf-8"))
    except (OSError, PlanError, yaml.YAMLError) as exc:
        print(f"doorgifte check-plan: {exc}", file=sys.stderr)
        return EXIT_USAGE
    policy = args.policy.split(",") if "," in args.policy else args.policy
    try:
        report = plans.check(load_engine(config), plan, exporter, policy, {}, args.as_of, args.lang)
    except RequestInvalid as exc:
        lines = [f"  {p.loc}: {p.msg}" for p in exc.problems]
        print("\n".join([f"doorgifte check-plan: {exc.detail}", *lines]), file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(sarif(report, "-" if args.plan == "-" else args.plan), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(text(report))
    if args.fail_on == "deny" and report["decision"] == "conditions":
        return 0
    return plans.DECISION_EXIT[report["decision"]]


def text(report: dict[str, Any]) -> str:
    """One line per resource, its findings indented below, and a summary."""
    lines = []
    for r in report["results"]:
        if "skipped" in r:
            lines.append(f"skip   {r['address']}: {r['skipped']}")
            continue
        lines.append(f"{r['decision']:<10} {r['address']} ({', '.join(r['places']) or 'no place'})")
        lines += [f"    {f['code']}: {f['message']}" for f in r["findings"]]
    counts = ", ".join(f"{n} {d}" for d, n in report["by_decision"].items())
    lines.append(
        f"{report['decision']}: {report['judged']} resources judged ({counts}), {report['skipped']} skipped,"
        f" {report['unknown']} with an unknown place"
    )
    lines += [f"assumed for {name}: {p['assumption']}" for name, p in report.get("providers", {}).items()]
    return "\n".join(lines) + "\n"
