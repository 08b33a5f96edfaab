"""The targets (PASS/FAIL with the measured value) and the short table `make bench` prints.

Both read only the results dict, so a part that failed (an `error` instead of numbers)
gives N/A for its targets and a line saying why, instead of stopping the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = dict[str, Any]


def _one_line(error: str) -> str:
    return " | ".join(line.strip() for line in error.splitlines() if line.strip())


def _get(results: dict[str, Any], *path: str) -> Any:
    node: Any = results
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def http_row(results: dict[str, Any], workers: int, clients: int, endpoint: str) -> Row | None:
    rows = _get(results, "http", "rows") or []
    return next(
        (r for r in rows if (r["workers"], r["clients"], r["endpoint"]) == (workers, clients, endpoint)), None
    )


def _target(name: str, target: str, value: float | None, passes: Callable[[float], bool], shown: str) -> Row:
    status = "N/A" if value is None else "PASS" if passes(value) else "FAIL"
    return {
        "name": name,
        "target": target,
        "value": value,
        "shown": shown if value is not None else "n/a",
        "status": status,
    }


def targets(results: dict[str, Any]) -> list[Row]:
    tc = _get(results, "latency", "one_hop_third_country", "p50_us")
    cedar = _get(results, "peers", "engines", "cedarpy", "stats", "p50_us")
    rego = _get(results, "peers", "engines", "regopy", "stats", "p50_us")
    chain = _get(results, "latency", "chain_3hop_6loc", "p50_us")
    varied_tc = _get(results, "latency", "varied", "1_hop_third_country", "p50_us")
    varied_chain = _get(results, "latency", "varied", "3_hop", "p50_us")
    decision, trivial = http_row(results, 2, 2, "decision"), http_row(results, 2, 2, "trivial")
    # in process with the batch helper process when it ran: the engine loop has one core by nature
    batch_loop = _get(results, "batch", "in_process_service_batch_helper", "median_ms") or _get(
        results, "batch", "in_process_engine_loop", "median_ms"
    )
    batch_http = _get(results, "batch", "http_1_worker", "median_ms")
    flows = _get(results, "batch", "flows") or 0
    growth = _get(results, "memory", "growth_mb")
    plan = _get(results, "action_plan", "chain_3hop_6loc", "ratio")
    decisions = _get(results, "memory", "decisions") or 0
    replay_ratio = _get(results, "replay", "ratio_1_job")
    replay_growth = _get(results, "replay", "memory", "growth_mb")
    replayed = _get(results, "replay", "memory", "decisions") or 0
    vs_cedar = tc / cedar if tc and cedar else None
    varied_vs_cedar = varied_tc / cedar if varied_tc and cedar else None
    vs_rego = rego / tc if tc and rego else None
    ratio = decision["ratio_to_trivial"] if decision and trivial else None
    per_s = decision["per_s"] if decision else None
    return [
        _target(
            "one_hop_tc_p50_vs_cedar",
            "doorgifte 1-hop third-country p50 <= Cedar p50",
            vs_cedar,
            lambda v: v <= 1,
            f"{tc or 0:.0f} us vs {cedar or 0:.0f} us ({vs_cedar or 0:.2f}x)",
        ),
        _target(
            "varied_one_hop_tc_p50_vs_cedar",
            "flows that differ: 1-hop third-country p50 <= Cedar p50",
            varied_vs_cedar,
            lambda v: v <= 1,
            f"{varied_tc or 0:.0f} us vs {cedar or 0:.0f} us ({varied_vs_cedar or 0:.2f}x)",
        ),
        _target(
            "varied_chain_p50",
            "flows that differ: 3-hop chain p50 <= 0.4 ms",
            varied_chain and varied_chain / 1000,
            lambda v: v <= 0.4,
            f"{(varied_chain or 0) / 1000:.3f} ms",
        ),
        _target(
            "one_hop_tc_p50_vs_rego",
            "Rego p50 >= 4x doorgifte 1-hop third-country p50",
            vs_rego,
            lambda v: v >= 4,
            f"{rego or 0:.0f} us vs {tc or 0:.0f} us ({vs_rego or 0:.2f}x)",
        ),
        _target(
            "chain_p50",
            "3-hop chain p50 <= 0.4 ms",
            chain and chain / 1000,
            lambda v: v <= 0.4,
            f"{(chain or 0) / 1000:.3f} ms",
        ),
        _target(
            "http_vs_trivial",
            "HTTP decisions >= 75% of trivial endpoint (2 workers, 2 clients)",
            ratio,
            lambda v: v >= 0.75,
            f"{(ratio or 0) * 100:.0f}%",
        ),
        _target(
            "http_decisions_per_s",
            "HTTP decisions >= 1,000/s (2 workers, 2 clients)",
            per_s,
            lambda v: v >= 1000,
            f"{per_s or 0:,.0f}/s",
        ),
        _target(
            "batch_in_process",
            f"batch of {flows:,} in process (decide_batch with its helper) <= 150 ms",
            batch_loop,
            lambda v: v <= 150,
            f"{batch_loop or 0:.0f} ms",
        ),
        _target(
            "batch_http",
            f"batch of {flows:,} over HTTP (1 worker) <= 300 ms",
            batch_http,
            lambda v: v <= 300,
            f"{batch_http or 0:.0f} ms",
        ),
        _target(
            "action_plan_share",
            "the action plan adds <= 10% to a 3-hop chain",
            plan,
            lambda v: v <= 1.10,
            f"{((plan or 1) - 1) * 100:+.1f}%",
        ),
        _target(
            "replay_vs_fresh",
            "replay per core >= 80% of deciding the same flows fresh",
            replay_ratio,
            lambda v: v >= 0.8,
            f"{(replay_ratio or 0) * 100:.0f}%",
        ),
        _target(
            "replay_memory_growth",
            f"replay worker RSS growth < 5 MB over {replayed:,} logged decisions",
            replay_growth,
            lambda v: v < 5,
            f"{replay_growth or 0:+.1f} MB",
        ),
        _target(
            "memory_growth",
            f"RSS growth < 20 MB over {decisions:,} decisions",
            growth,
            lambda v: v < 20,
            f"{growth or 0:+.1f} MB",
        ),
    ]


# ---------------------------------------------------------------- the table


def _latency_lines(results: dict[str, Any]) -> list[str]:
    latency = results.get("latency") or {}
    peer_results = results.get("peers") or {}
    engines = peer_results.get("engines") or {}
    plain = _get(engines, "plain_python", "stats", "p50_us")
    tc = _get(latency, "one_hop_third_country", "p50_us")
    lines = [
        f"{'In-process latency, us':<34}{'p50':>9}{'p95':>9}{'p99':>9}{'÷ plain':>10}{'÷ doorgifte TC':>16}"
    ]
    rows = [(f"doorgifte {name}", s) for name, s in latency.items() if "p50_us" in s]
    varied = latency.get("varied") or {}
    rows += [(f"doorgifte varied {name}", s) for name, s in varied.items() if isinstance(s, dict)]
    missing = []
    for name, peer in engines.items():
        label = f"peer {name} {peer['version'] or ''}".strip()
        if peer["status"] != "ok":
            missing.append(f"  {label:<32}missing: {peer['error']}")
        else:
            rows.append((label, peer["stats"]))
    for label, s in rows:
        p50 = s["p50_us"]
        ratios = f"{p50 / plain:>10.0f}" if plain else f"{'':>10}"
        ratios += f"{p50 / tc:>16.2f}" if tc else ""
        lines.append(f"  {label:<32}{p50:>9.1f}{s['p95_us']:>9.1f}{s['p99_us']:>9.1f}{ratios}")
    lines += missing
    for part in ("latency", "peers"):
        if "error" in (results.get(part) or {}):
            lines.append(f"  {part}: could not run: {_one_line(results[part]['error'])}")
    for name, flow in (results.get("flows") or {}).items():
        where = f"{flow['hops']} hop(s), {flow['locations']} location(s)"
        lines.append(f"  {name}: {flow['decision']}, {where}, {flow['response_bytes']:,} B of JSON")
    if "variants_agreeing" in peer_results:
        lines.append(
            f"  (every peer answered like doorgifte on {peer_results['variants_agreeing']} variant flows)"
        )
    return lines


HTTP_ROW = "  {:>7}{:>8}  {:<10}{:>8}{:>11}{:>8}{:>8}{:>16}{:>16}{:>8}"
CPU = ("srv CPU us/req", "cli CPU us/req")


def _http_lines(results: dict[str, Any]) -> list[str]:
    part = results.get("http") or {}
    if "error" in part:
        return [f"HTTP: could not run: {_one_line(part['error'])}"]
    rows = part.get("rows", [])
    header = rows[0]["connection_header"] if rows else None
    conns = max((r["connections_per_request"] for r in rows), default=0)
    lines = [
        f"HTTP, http.client with connection reuse (server answered Connection: {header}; "
        f"{conns:.2f} connections per request)",
        HTTP_ROW.format(
            "workers", "clients", "endpoint", "req/s", "÷ trivial", "p50 ms", "p99 ms", *CPU, "errors"
        ),
    ]
    for r in rows:
        numbers = [
            f"{r['per_s']:.0f}",
            f"{r['ratio_to_trivial']:.2f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
        ]
        cpu = [f"{r['server_cpu_us_per_request']:.0f}", f"{r['client_cpu_us_per_request']:.0f}"]
        lines.append(HTTP_ROW.format(r["workers"], r["clients"], r["endpoint"], *numbers, *cpu, r["errors"]))
    for workers, check in part.get("decision_log", {}).items():
        writes = check["writes"]
        lines.append(
            f"  decision log, {workers.replace('_', ' ')}: {check['rows']} rows for "
            f"{check['decisions_answered']} decisions answered; a write took {writes['mean_ms']:.2f} ms "
            f"on average, {writes['over_1ms_share'] * 100:.0f}% over 1 ms; "
            f"{writes.get('requests_per_commit', 0.0):.2f} requests per commit"
        )
    return lines


def _batch_lines(results: dict[str, Any]) -> list[str]:
    part = results.get("batch") or {}
    if "error" in part:
        return [f"Batch: could not run: {_one_line(part['error'])}"]
    labels = {
        "in_process_engine_loop": "in process: loop over engine.evaluate",
        "in_process_service_batch": "in process: Decider.decide_batch + SQLite log",
        "in_process_service_batch_helper": "  the same with 1 batch helper process",
        "in_process_flask_test_client": "in process: Flask test client POST (helper)",
        "http_1_worker": "HTTP POST /v1/decisions/batch, 1 worker (helper)",
        "http_1_worker_no_helper": "  the same, DOORGIFTE_BATCH_PROCESSES=0",
    }
    lines = []
    for mix, rows in (("mixed", part), ("varied", part.get("varied") or {})):
        if not rows:
            continue
        lines.append(f"Batch of {part.get('flows', 0):,} {mix} flows{'median ms':>32}{'min ms':>9}")
        for key, label in labels.items():
            r = rows.get(key) or {}
            if "error" in r:
                lines.append(f"  {label:<50}could not run: {_one_line(r['error'])}")
            elif r:
                lines.append(f"  {label:<50}{r['median_ms']:>9.0f}{r['min_ms']:>9.0f}")
    return lines


def _memory_lines(results: dict[str, Any]) -> list[str]:
    m = results.get("memory") or {}
    if "error" in m:
        return [f"Memory: could not run: {_one_line(m['error'])}"]
    return [
        f"Memory: RSS {m['rss_before_mb']:.1f} -> {m['rss_after_mb']:.1f} MB "
        f"over {m['decisions']:,} decisions ({m['growth_mb']:+.1f} MB), "
        f"{m['mean_us_per_decision']:.0f} us per decision"
    ]


def _replay_lines(results: dict[str, Any]) -> list[str]:
    part = results.get("replay") or {}
    if "error" in part:
        return [f"Replay: could not run: {_one_line(part['error'])}"]
    if not part:
        return []
    one, two, mem = part["replay_1_job"], part["replay_2_jobs"], part["memory"]
    return [
        f"Replay of {part['decisions']:,} logged decisions ({part['varied_flows']} varied flows, copied)",
        f"  fresh engine.evaluate in process{part['fresh_per_s']:>14,.0f}/s",
        f"  replay, 1 job{one['per_s']:>33,.0f}/s  ({part['ratio_1_job'] * 100:.0f}% of fresh)",
        f"  fresh, 2 processes{part['fresh_2_processes']['per_s']:>28,.0f}/s",
        f"  replay, 2 jobs{two['per_s']:>32,.0f}/s  ({two['per_s_per_core']:,.0f}/s per core, "
        f"{part['ratio_2_jobs'] * 100:.0f}% of fresh on 2 processes)",
        f"  worker RSS over {mem['decisions']:,} decisions: {mem['rss_after_warmup_mb']:.1f} -> "
        f"{mem['rss_end_mb']:.1f} MB ({mem['growth_mb']:+.1f} MB); log of {mem['log_mb']:,.0f} MB built in "
        f"{mem['log_build_seconds']:.0f} s",
    ]


def table(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    head = (
        f"doorgifte bench, {results['mode']} mode, {meta.get('started')}, {meta.get('seconds')} s, "
        f"git {meta.get('git')}, {_get(meta, 'machine', 'cpus')} CPUs; other processes used "
        f"{(meta.get('other_processes_cpu_share') or 0) * 100:.0f}% of the machine meanwhile"
    )
    lines = [head, "", *_latency_lines(results), "", *_http_lines(results), "", *_batch_lines(results), ""]
    lines += [*_memory_lines(results), "", *_replay_lines(results), "", "Targets"]
    for t in results.get("targets", []):
        lines.append(f"  {t['status']:<5} {t['target']:<66} {t['shown']}")
    return "\n".join(lines)
