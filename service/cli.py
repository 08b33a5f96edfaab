"""The `doorgifte` command (SPEC section 8).

Exit statuses are part of the interface: `evaluate` answers 0 allow, 10
conditions, 20 deny, 2 for invalid input or usage, 1 for an internal error; the
other commands answer 0 when all is well, 1 when they found problems (or could
not run) and 2 for usage errors. Flask, gunicorn and prometheus_client are
imported inside the commands that need them: `serve --workers N` must set up
prometheus_client's multiprocess directory before anything imports it.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.reference import REVIEW_MAX_DAYS
from service import lookup
from service.config import DEFAULT_THREADS, Config, ConfigError, default_batch_processes, is_postgres_url

if TYPE_CHECKING:
    from engine.api import Engine
    from engine.errors import Problem

from service import commands
from service.commands import EXIT_DECISION, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

# ---------------------------------------------------------------- helpers


def _time(text: str) -> str:
    from service.decision_log import normalise_time

    try:
        return normalise_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time") from None


def _err(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def load_engine(config: Config) -> Engine:
    return commands.load_engine(config)


def _problem_lines(problems: Sequence[Problem]) -> list[str]:
    """Contract problems as `loc: msg (hint)` lines."""
    return [f"  {p.loc}: {p.msg}" + (f" ({p.hint})" if p.hint else "") for p in problems]


# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from service import jsonlog, server
    from service.decision_log import open_log

    refusal = anonymous_bind_refusal(args.host, config, args.allow_anonymous)
    if refusal is not None:
        _err(f"doorgifte serve: {refusal}")
        return EXIT_USAGE
    try:
        open_log(config.db).close()  # a usable DOORGIFTE_DB; it connects only in the workers
    except ValueError as exc:
        _err(f"doorgifte serve: DOORGIFTE_DB: {exc}")
        return EXIT_USAGE
    jsonlog.configure(config.log_level_number)
    _validate_rule_base(config)
    if "DOORGIFTE_BATCH_PROCESSES" not in os.environ:  # the default counts the cores the workers leave
        config = dataclasses.replace(config, batch_processes=default_batch_processes(args.workers))
    return server.serve(config, args.host, args.port, args.workers, args.threads)


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address (127.0.0.0/8, ::1) or `localhost`."""
    import ipaddress

    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # another host name, or "" (every interface)


def anonymous_bind_refusal(host: str, config: Config, allow_anonymous: bool) -> str | None:
    """Why `serve --host HOST` must not start, or None (SPEC section 15): without a tokens file
    the service is open to anyone who reaches it, so it listens only on loopback unless the
    operator says `--allow-anonymous` (a trusted network, or a proxy that authenticates)."""
    if config.access_control or allow_anonymous or is_loopback(host):
        return None
    return (
        f"--host {host} is not a loopback address and DOORGIFTE_TOKENS_FILE is not set, so anyone "
        "who can reach it could use the service; set DOORGIFTE_TOKENS_FILE (see docs/service.md, "
        "Access control), listen on 127.0.0.1, or pass --allow-anonymous"
    )


def _validate_rule_base(config: Config) -> None:
    """Load every policy and data file without building a rule engine (the workers do)."""
    config.check_rule_base()


# ---------------------------------------------------------------- evaluate


def cmd_evaluate(args: argparse.Namespace, config: Config) -> int:
    from engine.errors import RequestInvalid
    from service.body import parse
    from service.errors import ProblemError
    from service.textformat import decision_text

    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        payload = parse(raw)
    except OSError as exc:
        _err(f"doorgifte evaluate: cannot read {args.file}: {exc.strerror or exc}")
        return EXIT_USAGE
    except ProblemError as exc:
        _err(f"doorgifte evaluate: {exc.detail}")
        return EXIT_USAGE
    if isinstance(payload, dict):
        policy = args.policy.split(",") if args.policy and "," in args.policy else args.policy
        overrides = {"as_of": args.as_of and args.as_of.isoformat(), "policy": policy, "lang": args.lang}
        payload.update({k: v for k, v in overrides.items() if v is not None})
    engine = load_engine(config)
    try:
        decision = engine.evaluate(payload, today=lookup.today_utc())
    except RequestInvalid as exc:
        _err(f"doorgifte evaluate: invalid request: {exc.detail}", *_problem_lines(exc.problems))
        return EXIT_USAGE
    except Exception as exc:  # fail closed: an engine error is never an answer
        _err(f"doorgifte evaluate: internal error: {type(exc).__name__}: {exc}")
        return EXIT_PROBLEMS
    if args.format == "text":
        lang = args.lang or (payload.get("lang") if isinstance(payload, dict) else None) or "en"
        sys.stdout.write(decision_text(decision, lang if lang in ("en", "nl") else "en"))
    else:
        sys.stdout.write(decision.model_dump_json(indent=2) + "\n")
    return EXIT_DECISION[decision.decision]


# ---------------------------------------------------------------- check, test-policy, golden


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    engine = load_engine(config)  # LoadError is reported by main()
    ref = engine.reference
    on = args.as_of or lookup.today_utc()
    unreviewed = ref.unreviewed(on)
    if unreviewed:  # facts go stale: name each one not reviewed within a year of the date
        for line in unreviewed:
            print(f"not reviewed within {REVIEW_MAX_DAYS} days: {line}")
        _err(f"doorgifte check: {len(unreviewed)} problem(s)")
        return EXIT_PROBLEMS
    profiles = engine.policies.profiles
    rules = sum(len(p.rules) for p in profiles.values())
    regions = sum(len(ref.region_ids(p)) for p in ref.providers)
    print(
        f"ok: {len(profiles)} policy profiles ({', '.join(sorted(profiles))}), {rules} rules in all; "
        f"reference data {ref.version}: {len(ref.adequacy.decisions)} adequacy decisions, "
        f"{regions} regions of {len(ref.providers)} cloud providers"
    )
    return EXIT_OK


def cmd_test_policy(args: argparse.Namespace, config: Config) -> int:
    from engine.policy_tests import run_case_files

    engine = load_engine(config)
    paths = _case_paths(args.paths) if args.paths else list(engine.policies.case_files)
    if not paths:
        _err("doorgifte test-policy: no *.cases.yaml files found")
        return EXIT_PROBLEMS
    report = run_case_files(engine, paths)
    for problem in getattr(report, "problems", []):
        print(problem)
    for result in report.results:
        if not result.ok:
            print(f"FAIL {result.file} {result.id}")
            print("\n".join(f"  {line}" for line in result.failures))
    for profile_id, rule_ids in sorted(report.uncovered.items()):
        if rule_ids:
            print(f"uncovered rules in {profile_id} (no case produces them): {', '.join(rule_ids)}")
    passed = sum(1 for r in report.results if r.ok)
    print(f"policy cases: {passed} passed, {len(report.results) - passed} failed")
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _case_paths(args: list[str]) -> list[Path]:
    paths: list[Path] = []
    for arg in args:
        path = Path(arg)
        paths.extend(sorted(path.rglob("*.cases.yaml")) if path.is_dir() else [path])
    return paths


def cmd_golden(args: argparse.Namespace, config: Config) -> int:
    from engine.golden import GOLDEN_PATH, build, dumps

    if args.log:  # the replay gate's log: the committed answers, decided again by `replay`
        from engine import golden
        from service.replay_cli import golden_log

        only = set(args.only.upper().split(",")) if args.only else None
        return golden_log(args.log, golden.committed_flows(golden.committed(), only))

    if args.check and not GOLDEN_PATH.exists():
        _err(f"doorgifte golden: {GOLDEN_PATH} does not exist; run doorgifte golden --write")
        return EXIT_PROBLEMS
    fresh = dumps(build(load_engine(config)))
    if args.write:
        GOLDEN_PATH.write_text(fresh, encoding="utf-8")
        print(f"wrote {GOLDEN_PATH}")
        return EXIT_OK
    committed = GOLDEN_PATH.read_text(encoding="utf-8")
    if committed == fresh:
        print(f"golden matrix unchanged ({GOLDEN_PATH})")
        return EXIT_OK
    diff = difflib.unified_diff(
        committed.splitlines(keepends=True),
        fresh.splitlines(keepends=True),
        f"{GOLDEN_PATH} (committed)",
        "fresh",
    )
    sys.stdout.writelines(diff)
    _err("doorgifte golden: the decisions differ from the committed matrix; review, then golden --write")
    return EXIT_PROBLEMS


# ---------------------------------------------------------------- reference data


def cmd_countries(args: argparse.Namespace, config: Config) -> int:
    from engine import catalogue
    from service.textformat import table

    engine = load_engine(config)
    on = args.as_of or lookup.today_utc()
    try:
        regime = lookup.regime(engine, args.regime)
    except lookup.Unknown as exc:
        _err(f"doorgifte countries: {exc.problem.msg}; {exc.problem.hint}")
        return EXIT_USAGE
    rows = [
        (c["country"], c["name"], c["zone"], c["eea"], c["transfer"], (c["adequacy"] or {}).get("act"))
        for c in catalogue.countries(engine, on, regime)
    ]
    print(f"countries as of {on.isoformat()}" + (f", seen from {regime}" if regime != catalogue.GDPR else ""))
    sys.stdout.write(table(("country", "name", "zone", "eea", "transfer", "adequacy decision"), rows))
    return EXIT_OK


def cmd_region(args: argparse.Namespace, config: Config) -> int:
    from service.textformat import table

    engine = load_engine(config)
    on = args.as_of or lookup.today_utc()
    try:
        policy = lookup.policy(engine, args.policy)
        regime = lookup.regime(engine, args.regime)
        if args.region:
            row = lookup.region(engine, args.provider, args.region, on, policy, regime)
            fields = ("provider", "region", "name", "city", "country", "partition", "zone", "eea", "retired")
            pairs = [(k, row[k]) for k in fields] + [
                ("policy", policy),
                ("regime", regime),
                ("as of", on.isoformat()),
                ("usable", row["processor_may_hold_personal_data"]),
                ("reasons", _reasons(row)),
                ("assumption", row["assumption"]),
            ]
            sys.stdout.write(table(("field", "value"), pairs))
            return EXIT_OK
        name, rows = lookup.regions(engine, args.provider, on, policy, regime)
    except lookup.Unknown as exc:
        _err(f"doorgifte region: {exc.problem.msg}" + (f"; {exc.problem.hint}" if exc.problem.hint else ""))
        return EXIT_USAGE
    print(f"{name} regions as of {on.isoformat()} under policy {policy} for an exporter under {regime}")
    lines = [
        (
            r["region"],
            r["name"],
            r["country"],
            r["city"],
            r["zone"],
            r["processor_may_hold_personal_data"],
            _reasons(r),
        )
        for r in rows
    ]
    sys.stdout.write(table(("region", "name", "country", "city", "zone", "usable", "reasons"), lines))
    return EXIT_OK


def _reasons(row: dict[str, Any]) -> list[str]:
    return sorted({*row["denials"], *row["conditions"]})


# ---------------------------------------------------------------- log export


def cmd_log_export(args: argparse.Namespace, config: Config) -> int:
    from service.decision_log import LogUnavailable, open_log

    db = args.db or config.db
    if not is_postgres_url(db) and not Path(db).is_file():
        _err(f"doorgifte log export: no decision log at {db}")
        return EXIT_PROBLEMS
    log = open_log(db)
    try:
        for entry in log.entries(args.since):
            sys.stdout.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    except LogUnavailable as exc:
        _err(f"doorgifte log export: {exc}")
        return EXIT_PROBLEMS
    finally:
        log.close()
    return EXIT_OK


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorgifte",
        description="Policy decisions for personal-data flows under the GDPR (AVG).",
        epilog="Configuration: DOORGIFTE_DB, DOORGIFTE_MAX_BODY, DOORGIFTE_LOG_LEVEL, DOORGIFTE_POLICY_PATH, "
        "DOORGIFTE_MAX_BATCH, DOORGIFTE_EVAL_TIMEOUT, DOORGIFTE_MAX_DEPTH, DOORGIFTE_MAX_NODES, "
        "DOORGIFTE_MAX_LOCATIONS, DOORGIFTE_TOKENS_FILE "
        "(see docs/service.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, func: Callable[[argparse.Namespace, Config], int], help: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    from service import guardrails_cli, plan_cli, replay_cli, vendor_cli

    vendor_cli.add_parser(sub)
    replay_cli.add_parser(sub)
    plan_cli.add_parser(sub)
    guardrails_cli.add_parser(sub)

    p = command("serve", cmd_serve, "run the HTTP service (gunicorn, threaded workers)")
    p.epilog = (
        "Access control: with DOORGIFTE_TOKENS_FILE every endpoint but /healthz, /readyz and "
        "/metrics needs a bearer token. Without it the service is open and serve refuses a "
        "non-loopback --host (exit 2) unless --allow-anonymous is given."
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1); a non-loopback address needs "
        "DOORGIFTE_TOKENS_FILE or --allow-anonymous",
    )
    p.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="listen on a non-loopback --host without DOORGIFTE_TOKENS_FILE (no access control)",
    )
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=commands.positive, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--threads",
        type=commands.positive,
        default=DEFAULT_THREADS,
        help="request threads per worker (default 4): they overlap their waits for the decision "
        "log, whose commits they share (group commit); rules are evaluated one at a time per worker",
    )

    p = command("evaluate", cmd_evaluate, "decide one flow request (JSON) from FILE or stdin")
    p.add_argument(
        "file", nargs="?", default="-", metavar="FILE", help="a flow request; - or nothing for stdin"
    )
    p.add_argument(
        "--as-of",
        type=lookup.date_argument,
        help="judge the flow on this date (overrides the request's as_of)",
    )
    p.add_argument(
        "--policy", help="policy profile id, or ids joined by commas (overrides the request's policy)"
    )
    p.add_argument("--lang", choices=("en", "nl"), help="message language (overrides the request's lang)")
    p.add_argument("--format", choices=("json", "text"), default="json")

    p = command("check", cmd_check, "load and validate every policy and all reference data")
    p.add_argument(
        "--as-of", type=lookup.date_argument, help="the date reviews are counted to (default today, UTC)"
    )

    p = command(
        "test-policy", cmd_test_policy, "run policy case files; fail on any failure or uncovered rule"
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="case files or directories (default: every policy's)"
    )

    p = command("countries", cmd_countries, "every country's zone and adequacy decision as a table")
    p.add_argument("--as-of", type=lookup.date_argument)
    p.add_argument(
        "--regime", default="gdpr", help="judge for an exporter under this regime: gdpr, uk_gdpr, ch_fadp"
    )

    p = command("region", cmd_region, "a cloud region (or every region of a provider) as a table")
    p.add_argument("provider", metavar="PROVIDER")
    p.add_argument("region", nargs="?", metavar="REGION")
    p.add_argument("--as-of", type=lookup.date_argument)
    p.add_argument("--policy", default="gdpr", help="policy profile id, or ids joined by commas")
    p.add_argument(
        "--regime", default="gdpr", help="judge for an exporter under this regime: gdpr, uk_gdpr, ch_fadp"
    )

    p = sub.add_parser("log", help="the decision log", description="the decision log")
    log_sub = p.add_subparsers(dest="log_command", required=True, metavar="SUBCOMMAND")
    export = log_sub.add_parser("export", help="write the decision log as JSON lines to stdout")
    export.set_defaults(func=cmd_log_export)
    export.add_argument(
        "--since", type=_time, help="only decisions logged at or after this ISO 8601 time (UTC)"
    )
    export.add_argument("--db", help="a SQLite path or postgresql:// URL (default: DOORGIFTE_DB)")

    p = command("golden", cmd_golden, "regenerate (--write) or compare (--check) the golden decision matrix")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--log", type=Path, metavar="FILE", help="write the golden flows as a new decision log")
    p.add_argument("--only", metavar="CC[,CC]", help="with --log: only these countries")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from engine.errors import LoadError

    args = build_parser().parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as exc:
        _err(f"doorgifte: {exc}")
        return EXIT_USAGE
    try:
        code: int = args.func(args, config)
    except LoadError as exc:
        for problem in exc.problems:
            print(problem)
        _err(f"doorgifte: {len(exc.problems)} problem(s) in the policies or reference data")
        return EXIT_PROBLEMS
    except BrokenPipeError:  # e.g. `doorgifte log export | head`
        sys.stderr.close()
        return EXIT_OK
    return code


if __name__ == "__main__":
    sys.exit(main())
