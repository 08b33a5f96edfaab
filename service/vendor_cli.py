"""`doorgifte vendor ...`: vendors kept as code, published lists, and a nightly review.

- `import PATH...`: vendor documents (YAML or JSON, files or directories) into the store of
  `DOORGIFTE_DB`; each reported as new, changed or unchanged; a document with problems is
  refused with file and line.
- `import-list --vendor ID FILE`: a published sub-processor list (CSV with the header
  `name,purpose,locations,entity_country`, `locations` separated by `;`, or a JSON array of
  objects with those keys) as the vendor's sub-processors in a new revision; a sub-processor
  already listed keeps its terms. Every place must resolve, or nothing is imported.
- `review ID`: what the change between two revisions means; exit 0 accept, 10 accept with
  conditions, 20 object (a nightly job reads the status).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

from engine import vendors
from engine.errors import LoadError, RequestInvalid
from engine.yamlfile import LoadProblems, read
from service.commands import EXIT_OK, EXIT_USAGE
from service.config import Config

LIST_HEADER = ["name", "purpose", "locations", "entity_country"]
#: column names published lists use for each field (trust-centre pages, subprocessors.json
#: files, the markdown tables of GitHub's and OpenProject's lists), lower-cased
HEADER_ALIASES = {
    "name": ("name", "subprocessor", "sub-processor", "entity", "entity name", "company", "vendor"),
    "purpose": ("purpose", "description", "description of processing", "services", "service", "activity"),
    "locations": (
        "locations",
        "location",
        "location of processing",
        "processing location",
        "data location",
        "data center location",
        "country of processing",
    ),
    "entity_country": (
        "entity_country",
        "country",
        "corporate location",
        "entity location",
        "headquarters",
        "country of incorporation",
    ),
}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("vendor", help="vendors: import, import a published list, review a change")
    vendor_sub = p.add_subparsers(dest="vendor_command", required=True, metavar="SUBCOMMAND")
    imp = vendor_sub.add_parser("import", help="store vendor documents (YAML or JSON files or directories)")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.set_defaults(func=cmd_import)
    lst = vendor_sub.add_parser("import-list", help="a published sub-processor list as a new revision")
    lst.add_argument("--vendor", required=True)
    lst.add_argument(
        "--format",
        choices=("csv", "json", "markdown"),
        help="default: from the file's extension (.md: markdown)",
    )
    lst.add_argument("file", metavar="FILE")
    lst.set_defaults(func=cmd_import_list)
    rev = vendor_sub.add_parser("review", help="what a change of sub-processors means; exit 0, 10 or 20")
    rev.add_argument("vendor")
    rev.add_argument("--from", dest="from_revision", type=int)
    rev.add_argument("--to", dest="to_revision", type=int)
    rev.add_argument("--notified-on", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date())
    _customer_arguments(rev)
    rev.add_argument("--format", choices=("json", "text"), default="text")
    rev.set_defaults(func=cmd_review)
    dec = vendor_sub.add_parser(
        "decide",
        help="decide by vendor id and log it, as POST /v1/vendors/{id}/decisions; exit 0, 10 or 20",
    )
    dec.add_argument("vendors", nargs="*", metavar="VENDOR", help="vendor ids; none with --all")
    dec.add_argument("--all", action="store_true", help="every stored vendor")
    _customer_arguments(dec, several_policies=True)
    dec.add_argument("--reference", help="the caller's own id for the decision")
    dec.add_argument("--dry-run", action="store_true", help="decide without logging")
    dec.set_defaults(func=cmd_decide)


def _customer_arguments(p: argparse.ArgumentParser, several_policies: bool = False) -> None:
    """Who uses the vendor and how: the exporter and the policy (review and decide alike);
    `several_policies`: `--policy` may be repeated, one decision per policy."""
    p.add_argument("--exporter", required=True, help="the customer's name")
    p.add_argument("--exporter-country", default="NL")
    p.add_argument("--public-body", action="store_true")
    if several_policies:
        p.add_argument("--policy", action="append", help="a profile id, or ids joined by commas; repeatable")
    else:
        p.add_argument("--policy", default="gdpr", help="a profile id, or ids joined by commas")
    p.add_argument("--as-of", type=dt.date.fromisoformat)


def _policy(text: str) -> str | list[str]:
    return text.split(",") if "," in text else text


def _customer(args: argparse.Namespace, policy: str = "") -> dict[str, Any]:
    exporter = {"name": args.exporter, "country": args.exporter_country, "public_body": args.public_body}
    return {"exporter": exporter, "policy": _policy(policy or args.policy), "as_of": args.as_of}


def _log(config: Config) -> Any:
    from service.decision_log import open_log

    return open_log(config.db)


# ----------------------------------------------------------------- import


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    from service.commands import load_engine
    from service.resources.vendors import put

    files = [f for p in map(Path, args.paths) for f in (sorted(_documents(p)) if p.is_dir() else [p])]
    resolver = load_engine(config).resolver
    docs: list[vendors.VendorDocument] = []
    problems: list[str] = []
    for path in files:
        try:
            docs.append(_document(path, resolver))
        except (LoadProblems, LoadError) as exc:
            problems.extend(str(p) for p in exc.problems)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return EXIT_USAGE
    log = _log(config)
    try:
        for doc in docs:
            revision, stored = put(log, doc)
            state = "unchanged" if not stored else "new" if revision == 1 else "changed"
            print(f"{doc.id}: {state} (revision {revision})")
    finally:
        log.close()
    return EXIT_OK


def _documents(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".json")]


def _document(path: Path, resolver: Any) -> vendors.VendorDocument:
    """A vendor document from a file; problems name the file and line."""
    doc = read(path)
    data = json.loads(json.dumps(doc.data, default=str))  # YAML dates as text, as JSON would send them
    try:
        return vendors.parse(data, resolver)
    except RequestInvalid as exc:
        raise LoadProblems([doc.problem(_path(p.loc), f"{p.loc}: {p.msg}") for p in exc.problems]) from None


def _path(loc: str) -> tuple[str | int, ...]:
    """`recipient.sub_processors[2].country` -> ('recipient', 'sub_processors', 2, 'country')."""
    out: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", loc):
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(out)


# ----------------------------------------------------------------- import-list


def cmd_import_list(args: argparse.Namespace, config: Config) -> int:
    from service.commands import load_engine
    from service.resources.vendors import put

    path = Path(args.file)
    suffix = path.suffix.lstrip(".").lower()
    kind = args.format or {"md": "markdown"}.get(suffix, suffix)
    if kind not in ("csv", "json", "markdown"):
        print(f"doorgifte vendor import-list: say --format csv, json or markdown for {path}", file=sys.stderr)
        return EXIT_USAGE
    rows, problems = _rows(path.read_text(encoding="utf-8"), kind)
    engine = load_engine(config)
    for line, row in rows:
        problems.extend(_row_problems(engine, line, row))
    if problems:
        print("\n".join(f"{path}:{line}: {msg}" for line, msg in problems), file=sys.stderr)
        print(f"doorgifte vendor import-list: nothing imported ({len(problems)} problem(s))", file=sys.stderr)
        return EXIT_USAGE
    log = _log(config)
    try:
        found = log.vendor(args.vendor)
        if found is None:
            print(
                f"doorgifte vendor import-list: no vendor {args.vendor!r}; import its document first",
                file=sys.stderr,
            )
            return EXIT_USAGE
        current = vendors.VendorDocument.model_validate_json(found[2])
        document = current.model_dump(mode="json")
        document["recipient"]["sub_processors"] = _sub_processors(current, [row for _, row in rows])
        document["list_version"] = f"{path.name} ({dt.datetime.now(dt.UTC).date().isoformat()})"
        revision, stored = put(log, vendors.parse(document))
        state = f"revision {revision}" if stored else "unchanged"
        print(f"{args.vendor}: {len(rows)} sub-processors, {state}")
    finally:
        log.close()
    return EXIT_OK


def _columns(header: list[str]) -> dict[str, str] | None:
    """Published column name -> our field, when a name and a country column are found."""
    found: dict[str, str] = {}
    for column in header:
        key = column.strip().lower()
        for field, aliases in HEADER_ALIASES.items():
            if key in aliases and field not in found.values():
                found[column] = field
    return found if set(found.values()) >= {"name", "entity_country"} else None


def _named(row: dict[str, Any], columns: dict[str, str]) -> dict[str, str]:
    out = dict.fromkeys(LIST_HEADER, "")
    for column, field in columns.items():
        value = row.get(column)
        out[field] = ";".join(map(str, value)) if isinstance(value, list) else str(value or "").strip()
    return out


def _rows(text: str, kind: str) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """(line, row) pairs, and problems with their line numbers. Columns may carry the names
    published lists use (HEADER_ALIASES); a name and a country column are required."""
    if kind == "markdown":
        return _markdown_rows(text)
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        columns = _columns(list(reader.fieldnames or []))
        if columns is None:
            return [], [(1, f"the header needs a name and a country column, such as {','.join(LIST_HEADER)}")]
        return [(reader.line_num, _named(row, columns)) for row in reader], []
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [(exc.lineno, f"not JSON: {exc.msg}")]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return [], [(1, "a JSON array of objects with the keys " + ", ".join(LIST_HEADER))]
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if line.lstrip().startswith("{")]
    out = []
    for n, item in enumerate(items):
        columns = _columns(list(item))
        line = lines[n] if n < len(lines) else n + 1
        if columns is None:
            return [], [(line, "an entry needs a name and a country, such as " + ", ".join(LIST_HEADER))]
        out.append((line, _named(item, columns)))
    return out, []


def _markdown_rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """Rows of the first pipe table of a markdown page (how some vendors publish their list);
    places in a cell may be separated by `,`, `/`, `;` or `and`."""
    table = [(n + 1, line) for n, line in enumerate(text.splitlines()) if line.strip().startswith("|")]
    if len(table) < 2:
        return [], [(1, "no markdown table found")]
    header = _cells(table[0][1])
    columns = _columns(header)
    if columns is None:
        return [], [(table[0][0], "the table needs a name and a country column")]
    out = []
    for line, raw in table[1:]:
        values = _cells(raw)
        if all(set(v) <= set("-: ") for v in values):
            continue  # the separator row
        row = _named(dict(zip(header, values, strict=False)), columns)
        row["locations"] = ";".join(p for p in re.split(r"\s*(?:,|/|;|\band\b)\s*", row["locations"]) if p)
        out.append((line, row))
    return out, []


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _row_problems(engine: Any, line: int, row: dict[str, str]) -> list[tuple[int, str]]:
    out = []
    if not row.get("name"):
        out.append((line, "name is empty"))
    if not row.get("entity_country") or engine.resolver.country(row["entity_country"]) is None:
        out.append((line, f"entity_country {row.get('entity_country')!r} is not a country"))
    for place in filter(None, (p.strip() for p in row.get("locations", "").split(";"))):
        if engine.resolver.location("locations", place)[0] is None:
            out.append((line, f"location {place!r} is not a country or a location word (EEA, worldwide)"))
    return out


def _sub_processors(current: vendors.VendorDocument, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The list's entities as sub-processors; one the vendor already listed keeps its terms."""
    known = {n.get("name"): n for n in current.recipient.get("sub_processors", [])}
    out = []
    for row in rows:
        base = dict(
            known.get(row["name"]) or {"agreement": {"authorisation": {"kind": "general"}, "flow_down": True}}
        )
        base.update(name=row["name"], country=row["entity_country"])
        if row.get("purpose"):
            base["purpose"] = row["purpose"]
        places = [p.strip() for p in row.get("locations", "").split(";") if p.strip()]
        if places:
            base["locations"] = places
        out.append(base)
    return out


# ----------------------------------------------------------------- review


def cmd_review(args: argparse.Namespace, config: Config) -> int:
    from service.commands import load_engine
    from service.errors import ProblemError
    from service.resources.vendors import run_review
    from service.schemas import VendorReviewRequest

    ask = VendorReviewRequest(
        from_revision=args.from_revision,
        to_revision=args.to_revision,
        notified_on=args.notified_on,
        **_customer(args),
    )
    engine = load_engine(config)
    log = _log(config)
    try:
        result = run_review(args.vendor, ask, log, engine.evaluate)
    except (ProblemError, RequestInvalid) as exc:
        print(f"doorgifte vendor review: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        log.close()
    if args.format == "json":
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        print(_review_text(result))
    return vendors.VERDICT_EXIT[result["verdict"]]


def _review_text(result: dict[str, Any]) -> str:
    head = f"{result['vendor']}: revision {result['from_revision']} -> {result['to_revision']}"
    lines = [
        f"{head}: {result['verdict']}"
        + (f" (object by {result['object_by']})" if result["object_by"] else "")
    ]
    lines += [f"  {c['change']}: {c['party']}" for c in result["changes"]]
    lines += [f"  new condition: {c['message']}" for c in result["new_conditions"]]
    lines += [f"  new denial: {d['message']}" for d in result["new_denials"]]
    lines += [f"  resolved: {r['message']}" for r in result["resolved"]]
    return "\n".join(lines)


# ----------------------------------------------------------------- decide


def cmd_decide(args: argparse.Namespace, config: Config) -> int:
    """Logged decisions on the vendors' latest revisions, one per vendor and policy, as the HTTP
    endpoint takes them (also what `make demo` fills the dashboard with). Exit: the worst one."""
    from service.commands import EXIT_DECISION, load_engine
    from service.deciding import Decider
    from service.errors import ProblemError
    from service.metrics import Metrics

    if bool(args.vendors) == args.all:
        print("doorgifte vendor decide: name vendors, or give --all", file=sys.stderr)
        return EXIT_USAGE
    engine = load_engine(config)
    log = _log(config)
    worst = EXIT_OK
    try:
        decider = Decider(engine, log, Metrics(), config.eval_timeout)
        for vendor_id in [row[0] for row in log.vendors()] if args.all else args.vendors:
            for policy in args.policy or ["gdpr"]:
                worst = max(worst, EXIT_DECISION[_decide_one(args, decider, log, vendor_id, policy)])
    except (ProblemError, RequestInvalid, LookupError) as exc:
        print(f"doorgifte vendor decide: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        log.close()
    return worst


def _decide_one(args: argparse.Namespace, decider: Any, log: Any, vendor_id: str, policy: str) -> str:
    import uuid

    from service.resources.vendors import flow_of
    from service.schemas import VendorDecisionRequest

    found = log.vendor(vendor_id)
    if found is None:
        raise LookupError(f"no vendor {vendor_id!r} (doorgifte vendor import)")
    ask = VendorDecisionRequest(reference=args.reference, dry_run=args.dry_run, **_customer(args, policy))
    doc = vendors.VendorDocument.model_validate_json(found[2])
    flow = {**flow_of(doc, ask), "reference": ask.reference, "dry_run": ask.dry_run, "horizon": True}
    decision, _ = decider.decide(flow, str(uuid.uuid4()), vendors.vendor_ref(doc, found[0]))
    logged = "logged" if decision.logged else "not logged"
    head = f"{vendor_id} r{found[0]} {decision.policy.id}"
    print(f"{head}: {decision.decision} ({decision.decision_id}, {logged})")
    return str(decision.decision)
