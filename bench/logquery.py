"""(f) Log queries and the transfer register (SPEC section 13) on a log of a million decisions.

A log of `rows` decisions is generated once per back end: real decisions of the engine
(one hop in the EEA, in Singapore with and without clauses, in China without effective
measures, in the UK with a horizon, the 3-hop chain and the vendor chain of the docs, each
under gdpr, nl-gov and eu-residency) made into log rows by the service's own
`Decider._entry`, then varied per row: decision id, time (spread over a year, in order),
vendor (1,000 ids, on 40 % of rows, with the vendor's name as root recipient), reference
(1,000 ids), labels (`team`, 10 values, on 80 %; `system`, 100 values, on half) and the
policy, decision and open actions of the template. The rows go in with executemany (SQLite, one
transaction) or COPY (PostgreSQL), through the service's own schema and indexes.

Then, through the Flask app in process (query parsing, summaries and JSON included), the
p50 and p95 of `GET /v1/decisions?vendor=&decision=`, `?label=`, and `GET /v1/register`,
each against a target of 100 ms p50, and a few more queries for information; and the
dashboard's overview as `service.overview.build(log, today)` (register heads with their open
actions, 30 days of counts, coming changes) against a target of 300 ms p50. PostgreSQL
runs when a throwaway server can be started as the tests start one
(`tests.e2e.support.Postgres`); otherwise its result says why it was skipped.

`python -m bench.logquery [--rows N]` runs this part alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.flows import AS_OF, TODAY, chain, one_hop_eea, one_hop_third_country

DEFAULT_ROWS = 1_000_000
VENDORS = 1_000
REFERENCES = 1_000
TEAMS = 10
SYSTEMS = 100
TARGET_MS = 100.0
OVERVIEW_TARGET_MS = 300.0
POLICIES = ("gdpr", "nl-gov", "eu-residency")
VENDOR_CHAIN = Path(__file__).resolve().parent.parent / "docs" / "examples" / "vendor-chain.json"
CHUNK = 20_000


def configured_rows(default: int = DEFAULT_ROWS) -> int:
    return int(os.environ.get("BENCH_LOGQUERY_ROWS", default))


# ---------------------------------------------------------------- the rows


@dataclass(frozen=True)
class Template:
    """One real decision's log row; `weight`: how often rows copy it."""

    entry: Any  # service.decision_log.LogEntry
    weight: int


def base_flows() -> dict[str, tuple[dict[str, Any], int]]:
    """(flow, weight): what a year of a municipality's and its suppliers' questions looks like."""
    exporter = {"name": "Acme BV", "country": "NL"}

    def abroad(country: str, name: str, agreement: dict[str, Any], **extra: Any) -> dict[str, Any]:
        recipient = {"name": name, "role": "processor", "country": country, "agreement": agreement}
        return {"as_of": AS_OF, "exporter": exporter, "recipient": recipient, **extra}

    dpa = {"dpa": {"signed": True}}
    no_measures = {**dpa, "safeguards": {"scc": {"module": 2}, "tia": {"outcome": "no_effective_measures"}}}
    vendor_chain = json.loads(VENDOR_CHAIN.read_text())
    vendor_chain.pop("policy", None)
    return {
        "eea": (one_hop_eea(), 25),
        "sg_scc": (one_hop_third_country(), 15),
        "sg_nothing": (abroad("SG", "Merlion Cloud Pte Ltd", dpa), 15),
        "cn_deny": (abroad("CN", "Shenzhen Compute Co Ltd", no_measures), 5),
        "gb_horizon": (abroad("GB", "London Payroll Ltd", dpa, horizon=True), 10),
        "chain": ({**chain(), "policy": "gdpr"}, 20),
        "vendor_chain": (vendor_chain, 10),
    }


def templates(engine: Any) -> list[Template]:
    """Every base flow under every policy it can be decided under, as the service logs it."""
    from service.deciding import Decider
    from service.metrics import Metrics

    decider = Decider(engine, None, Metrics(), timeout=600)  # type: ignore[arg-type]  # only _entry is used
    out = []
    for payload, weight in base_flows().values():
        for policy in POLICIES:
            flow = {**payload, "policy": policy}
            decision = engine.evaluate(flow, today=TODAY)
            decision.logged = True
            entry = decider._entry(flow, decision, decision.model_dump_json(), "bench")
            out.append(Template(entry, weight * (3 if policy == "gdpr" else 1)))
    return out


def generate(
    templates: list[Template], count: int, seed: int = 2026
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(decision row with seq first, label rows) for seq 1..count, times in order over a year."""
    from service.decision_log import COLUMNS

    rng = random.Random(seed)
    chosen = rng.choices(templates, weights=[t.weight for t in templates], k=count)
    start = dt.datetime(2025, 11, 22, tzinfo=dt.UTC)
    step = dt.timedelta(days=365) / max(count, 1)
    for i, template in enumerate(chosen):
        row = dict(zip(COLUMNS, (getattr(template.entry, c) for c in COLUMNS), strict=True))
        row["decision_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        row["decided_at"] = (start + step * i).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        draw = rng.random()
        if draw < 0.4:
            k = rng.randrange(VENDORS)
            row.update(
                vendor_id=f"vendor-{k:04d}", vendor_revision=str(1 + k % 5), vendor_list_version="2026-10-01"
            )
            row["recipient"] = f"Vendor {k:04d} B.V."
            row["reference"] = f"PO-{rng.randrange(REFERENCES):04d}" if rng.random() < 0.5 else None
        else:
            row["reference"] = f"PO-{rng.randrange(REFERENCES):04d}" if draw < 0.9 else None
        labels = {}
        if rng.random() < 0.8:
            labels["team"] = f"team-{rng.randrange(TEAMS)}"
        if rng.random() < 0.5:
            labels["system"] = f"system-{rng.randrange(SYSTEMS):02d}"
        row["labels"] = json.dumps(labels, sort_keys=True) if labels else None
        seq = i + 1
        label_rows = [(row["decision_id"], k, v, row["decided_at"], seq) for k, v in labels.items()]
        yield (seq, *(row[c] for c in COLUMNS)), label_rows


def chunks(rows: Iterator[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch = []
    for item in rows:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------- loading


def load_sqlite(path: Path, templates: list[Template], count: int) -> float:
    """The service's schema, then every row in one transaction; seconds taken."""
    from service.decision_log import COLUMNS, SqliteLog

    log = SqliteLog(path)
    log.check()  # creates the tables and indexes
    log.close()
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # a bulk load, not the service's durable writes: no journal; the service turns WAL on again
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB, so the indexes are built in memory
        conn.execute("BEGIN")
        marks = ", ".join(["?"] * (len(COLUMNS) + 1))
        insert = f"INSERT INTO decisions (seq, {', '.join(COLUMNS)}) VALUES ({marks})"
        labels = (
            "INSERT INTO decision_labels (decision_id, key, value, decided_at, seq) VALUES (?, ?, ?, ?, ?)"
        )
        for batch in chunks(generate(templates, count)):
            conn.executemany(insert, [row for row, _ in batch])
            conn.executemany(labels, [label for _, rows in batch for label in rows])
        # rows loaded around DecisionLog.write have no register heads nor day counts: dropped, the
        # service fills them once when it opens the log, as it does for a log older than the tables
        conn.execute("DROP TABLE register_heads")
        conn.execute("DROP TABLE decision_days")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return time.perf_counter() - started


def load_postgres(url: str, templates: list[Template], count: int) -> float:
    """The service's schema on an empty database, then COPY; seq is 1..count in COPY order."""
    import psycopg

    from service.decision_log import COLUMNS, PostgresLog

    log = PostgresLog(url)
    log.check()
    log.close()
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cur:
            with cur.copy(f"COPY decisions ({', '.join(COLUMNS)}) FROM STDIN") as decisions:
                for row, _ in generate(templates, count):
                    decisions.write_row(row[1:])
            # the same rows again (same seed), for their labels: nothing is held in memory
            with cur.copy(
                "COPY decision_labels (decision_id, key, value, decided_at, seq) FROM STDIN"
            ) as labels:
                for _, label_rows in generate(templates, count):
                    for label in label_rows:
                        labels.write_row(label)
        # filled when the service opens the log (above)
        conn.execute("DROP TABLE register_heads")
        conn.execute("DROP TABLE decision_days")
        # what autovacuum does to a live log: statistics, and the visibility map for index-only scans
        conn.execute("VACUUM ANALYZE decisions")
        conn.execute("VACUUM ANALYZE decision_labels")
    return time.perf_counter() - started


# ---------------------------------------------------------------- measuring


def percentiles(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2), "calls": len(ordered)}


def measure(
    client: Any, make_url: Callable[[random.Random], str], calls: int, before: Callable[[], object] = list
) -> dict[str, Any]:
    """GET a fresh URL per call (random vendor, label...), after two warm-up calls; `before`
    runs before each call, untimed."""
    rng = random.Random(7)
    sizes = []
    for _ in range(2):
        client.get(make_url(rng))
    times = []
    for _ in range(calls):
        url = make_url(rng)
        before()
        start = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, body[:300]
        sizes.append(len(body))
    return {**percentiles(times), "mean_answer_bytes": round(statistics.mean(sizes))}


def queries(client: Any, calls: int) -> dict[str, Any]:
    register_calls = max(3, calls // 5)

    def forget_rows() -> None:
        """The register as a fresh worker builds it: every response read and parsed."""
        client.application.extensions["doorgifte"].cache.pop("register_rows", None)

    def vendor(rng: random.Random) -> str:
        return f"/v1/decisions?vendor=vendor-{rng.randrange(VENDORS):04d}&decision=conditions"

    def label(rng: random.Random) -> str:
        return f"/v1/decisions?label=team:team-{rng.randrange(TEAMS)}"

    def two_labels(rng: random.Random) -> str:
        system, team = rng.randrange(SYSTEMS), rng.randrange(TEAMS)
        return f"/v1/decisions?label=system:system-{system:02d}&label=team:team-{team}"

    def reference_policy(rng: random.Random) -> str:
        return f"/v1/decisions?reference=PO-{rng.randrange(REFERENCES):04d}&policy=nl-gov&limit=20"

    def month(rng: random.Random) -> str:
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(300))
        return f"/v1/decisions?since={day}&until={day + dt.timedelta(days=30)}&decision=deny"

    return {
        "vendor_and_decision": measure(client, vendor, calls),
        "label": measure(client, label, calls),
        "two_labels": measure(client, two_labels, calls),
        "reference_and_policy": measure(client, reference_policy, calls),
        "month_of_denials": measure(client, month, calls),
        "deep_page": deep_page(client, calls),
        "register": measure(client, lambda rng: "/v1/register", register_calls),
        "register_cold": measure(client, lambda rng: "/v1/register", register_calls, forget_rows),
        "register_one_policy": measure(client, lambda rng: "/v1/register?policy=nl-gov", register_calls),
        "register_csv": measure(client, lambda rng: "/v1/register?format=csv", register_calls),
    }


def deep_page(client: Any, calls: int) -> dict[str, Any]:
    """The 50th page of 100 of one team (or its last, in a small log): a keyset page costs the
    same however deep it is."""
    url = "/v1/decisions?label=team:team-3&limit=100"
    deep, pages = url, 0
    while pages < 50:
        cursor = client.get(deep).get_json()["next_cursor"]
        if cursor is None:
            break
        deep, pages = f"{url}&cursor={cursor}", pages + 1
    return {**measure(client, lambda rng: deep, calls), "page": pages + 1}


def overview(client: Any, log: Any, calls: int) -> dict[str, Any]:
    """The dashboard's overview page (`GET /dashboard`: the target, HTML rendered), and its data
    as `build` gives it for all policies and for one, after two warm-up calls (a worker's first
    page, with cold caches, is the p95's business)."""
    from service.overview import build

    out: dict[str, Any] = {"overview_page": measure(client, lambda rng: "/dashboard", calls)}
    for key, policy in (("overview", None), ("overview_one_policy", "nl-gov")):
        for _ in range(2):
            build(log, TODAY, policy)
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            built = build(log, TODAY, policy)
            times.append((time.perf_counter() - start) * 1000)
        out[key] = {
            **percentiles(times),
            "heads": sum(sum(o.counts.values()) for o in built.vendors_by_decision.values())
            + sum(sum(o.counts.values()) for o in built.transfers_by_decision.values()),
            "actors": len(built.actions_by_actor),
            "days_with_decisions": sum(1 for day in built.timeline if any(day.counts.values())),
            "coming_changes": len(built.coming_changes),
        }
    return out


def run_backend(
    name: str, engine: Any, db: str, load: Callable[[], float], calls: int, count: int
) -> dict[str, Any]:
    from service.app import create_app
    from service.config import Config

    print(f"[bench] log queries: loading {count:,} decisions into {name} ...", file=sys.stderr, flush=True)
    seconds = load()
    started = time.perf_counter()
    app = create_app(Config(db=db), engine=engine)  # opens the log: fills the register heads once
    try:
        client = app.test_client()
        app.extensions["doorgifte"].log.check()
        heads_s = round(time.perf_counter() - started, 1)
        result = {"rows": count, "load_s": round(seconds, 1), "heads_s": heads_s, **queries(client, calls)}
        log = app.extensions["doorgifte"].log
        started = time.perf_counter()
        latest = log.latest(dt.date.today().strftime("%Y-%m-%dT23:59:59.999999Z"))
        result["register_sources"] = {
            "decisions": len(latest),
            "query_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        result.update(overview(client, log, calls))
    finally:
        app.extensions["doorgifte"].log.close()
    return result


@contextlib.contextmanager
def postgres_server() -> Iterator[tuple[str | None, str | None]]:
    """(url, None) of a throwaway server, or (None, why not)."""
    try:
        import psycopg  # noqa: F401

        from tests.e2e.support import Postgres, PostgresUnavailable
    except ImportError as exc:
        yield None, f"cannot start PostgreSQL here: {exc}"
        return
    server = Postgres()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        yield None, f"PostgreSQL cannot be started here: {exc}"
        return
    try:
        yield server.url, None
    finally:
        server.stop()


def run(engine: Any, count: int, workdir: Path, calls: int = 50) -> dict[str, Any]:
    made = templates(engine)
    out: dict[str, Any] = {
        "rows": count,
        "templates": len(made),
        "mean_response_bytes": round(
            sum(len(t.entry.response) * t.weight for t in made) / sum(t.weight for t in made)
        ),
    }
    path = workdir / "logquery.sqlite3"
    out["sqlite"] = run_backend(
        "SQLite", engine, str(path), lambda: load_sqlite(path, made, count), calls, count
    )
    out["sqlite"]["file_mb"] = round(sum(p.stat().st_size for p in workdir.glob("logquery.sqlite3*")) / 1e6)
    for leftover in workdir.glob("logquery.sqlite3*"):
        leftover.unlink()
    with postgres_server() as (url, why_not):
        if url is None:
            out["postgresql"] = {"skipped": why_not}
        else:
            out["postgresql"] = run_backend(
                "PostgreSQL", engine, url, lambda: load_postgres(url, made, count), calls, count
            )
    return out


# ---------------------------------------------------------------- targets and the table


TARGETS = (
    ("vendor_and_decision", "GET /v1/decisions?vendor=&decision=", TARGET_MS),
    ("label", "GET /v1/decisions?label=", TARGET_MS),
    ("register", "GET /v1/register", TARGET_MS),
    ("overview_page", "GET /dashboard (overview page)", OVERVIEW_TARGET_MS),
)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    from bench.report import _target

    part = results.get("log_queries") or {}
    rows = part.get("rows", 0)
    out = []
    for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        for key, what, limit in TARGETS:
            value = ((part.get(backend) or {}).get(key) or {}).get("p50_ms")
            out.append(
                _target(
                    f"log_{backend}_{key}",
                    f"{what} p50 < {limit:.0f} ms, {label}, {rows:,} decisions",
                    value,
                    lambda v, limit=limit: v < limit,
                    f"{value or 0:.1f} ms",
                )
            )
    return out


def lines(results: dict[str, Any]) -> list[str]:
    part = results.get("log_queries") or {}
    if "error" in part:
        return [f"Log queries: could not run: {part['error']}"]
    out = [
        f"Log queries on {part.get('rows', 0):,} decisions (mean response "
        f"{part.get('mean_response_bytes', 0):,} B){'p50 ms':>12}{'p95 ms':>9}{'answer B':>11}"
    ]
    for backend in ("sqlite", "postgresql"):
        numbers = part.get(backend) or {}
        if "skipped" in numbers or "error" in numbers:
            out.append(f"  {backend}: {numbers.get('skipped') or numbers.get('error')}")
            continue
        out.append(
            f"  {backend}: loaded in {numbers.get('load_s')} s,"
            f" opened (register heads and day counts filled) in {numbers.get('heads_s')} s"
            + (f", {numbers['file_mb']:,} MB" if "file_mb" in numbers else "")
        )
        for key, value in numbers.items():
            if isinstance(value, dict) and "p50_ms" in value:
                answer = f"{value['mean_answer_bytes']:>11,}" if "mean_answer_bytes" in value else ""
                out.append(f"    {key:<62}{value['p50_ms']:>9.1f}{value['p95_ms']:>9.1f}{answer}")
        sources = numbers.get("register_sources") or {}
        if sources:
            out.append(
                f"    register: {sources['decisions']:,} latest decisions found in {sources['query_ms']} ms"
            )
        shown = numbers.get("overview") or {}
        if shown:
            out.append(
                f"    overview: {shown['heads']:,} heads, {shown['actors']} actors with open actions,"
                f" {shown['days_with_decisions']} of 30 days with decisions,"
                f" {shown['coming_changes']} coming changes"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    import tempfile

    from engine.api import Engine

    parser = argparse.ArgumentParser(prog="python -m bench.logquery", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=configured_rows(), help="decisions in the log")
    parser.add_argument("--calls", type=int, default=50, help="timed calls per query")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="doorgifte-logquery-") as tmp:
        results = {"log_queries": run(Engine.load(), args.rows, Path(tmp), args.calls)}
    print("\n".join(lines(results)))
    for t in targets(results):
        print(f"  {t['status']:<5} {t['target']:<66} {t['shown']}")
    print(json.dumps(results, indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
