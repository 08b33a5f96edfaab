"""(c) HTTP throughput and latency of `doorgifte serve` with 1 and 2 gunicorn workers.

The server runs exactly as deployed (`doorgifte serve --workers N`, a fresh SQLite decision
log in a temporary DOORGIFTE_DB, so every decision is written durably before it is
answered). Next to `POST /v1/decisions` the same server and client measure `GET /healthz`,
a trivial JSON route that passes the same Flask, request-log and metrics layers: the ratio
between the two is what deciding and logging cost on top of the HTTP stack.

The client is `http.client` with connection reuse. The server's gthread workers keep
connections open (sync workers, used before, answered `Connection: close`); the client counts
the connections it opened and reports the server's Connection header instead of assuming
keep-alive. Client and server share the machine's 2 cores, so the client's and the
server's CPU time per request are reported too, and so is the service's own histogram of
decision-log write times (from GET /metrics): with 2 workers the writes queue for
SQLite's one write lock; and how many requests each commit released (group commit). Each
measurement is bounded in time and count and only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.flows import one_hop_third_country
from bench.inprocess import percentile

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
DOORGIFTE = Path(sys.executable).with_name("doorgifte")
JSON = {"Content-Type": "application/json"}
TICK_S = 1 / os.sysconf("SC_CLK_TCK")
LOG_METRIC = "doorgifte_decision_log_write_seconds"
COMMIT_METRIC = "doorgifte_decision_log_commit_requests"
#: client threads per measurement: the target is read at 2; 8 shows what group commit shares
CLIENTS = (1, 2, 8)
ENDPOINTS = {
    "decision": ("POST", "/v1/decisions", json.dumps(one_hop_third_country()).encode()),
    "trivial": ("GET", "/healthz", None),
}


@dataclass
class Server:
    port: int
    pid: int
    db: Path
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(workers: int, workdir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """`doorgifte serve` on a free port with its own decision log; stopped with SIGTERM."""
    port = free_port()
    server = Server(port, 0, workdir / f"decisions-{workers}w.sqlite3", workdir / f"server-{workers}w.log")
    env = {**os.environ, **(extra_env or {}), "DOORGIFTE_DB": str(server.db)}
    args = [str(DOORGIFTE), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    with server.log.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    server.pid = proc.pid
    try:
        wait_ready(server, proc)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(server: Server, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    """Until GET /readyz answers 200 (every worker loads the engine itself, which takes a while)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = server.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"doorgifte serve exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if Client(server.port).call("GET", "/readyz")[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"doorgifte serve was not ready within {timeout:g} s; see {server.log}")


class Client:
    """One http.client connection, reused whenever the server leaves it open."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.connects = 0
        self.connection_header: str | None = None

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.conn.sock is None:  # http.client (re)connects for this request
            self.connects += 1
        self.conn.request(method, path, body=body, headers=JSON if body is not None else {})
        response = self.conn.getresponse()
        data = response.read()  # closes the socket when the server said Connection: close
        self.connection_header = response.getheader("Connection")
        return response.status, data


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the gunicorn master and its workers)."""
    total = 0.0
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) * TICK_S
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total += sum(cpu_seconds(int(child)) for child in children)
    return total


def load(server: Server, endpoint: str, clients: int, seconds: float, max_requests: int) -> dict[str, Any]:
    """`clients` threads, each sending one request after the other for `seconds` or `max_requests`."""
    method, path, body = ENDPOINTS[endpoint]
    workers = [Client(server.port) for _ in range(clients)]
    latencies: list[list[int]] = [[] for _ in workers]
    errors = [0] * clients
    start_line = threading.Barrier(clients + 1)

    def run(i: int) -> None:
        client, mine = workers[i], latencies[i]
        start_line.wait()
        deadline = time.perf_counter() + seconds
        while len(mine) < max_requests and time.perf_counter() < deadline:
            t0 = time.perf_counter_ns()
            try:
                status, _ = client.call(method, path, body)
            except (OSError, http.client.HTTPException):
                client.conn.close()  # counted as an error; the next request reconnects
                status = 0
            mine.append(time.perf_counter_ns() - t0)
            errors[i] += status != 200

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
    start_line.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    done = max(sum(len(x) for x in latencies), 1)
    return {
        "requests": done,
        "errors": sum(errors),
        "per_s": (done - sum(errors)) / wall,
        "latencies_ns": [x for mine in latencies for x in mine],
        "connections": sum(c.connects for c in workers),
        "connection_header": workers[0].connection_header,
        "server_cpu_us": (cpu_seconds(server.pid) - server_cpu) / done * 1e6,
        "client_cpu_us": (time.process_time() - client_cpu) / done * 1e6,
    }


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one measurement: median throughput, percentiles over every request."""
    ordered = sorted(x for r in runs for x in r["latencies_ns"])
    requests = sum(r["requests"] for r in runs)
    return {
        "per_s": statistics.median(r["per_s"] for r in runs),
        "per_s_rounds": [round(r["per_s"], 1) for r in runs],
        "p50_ms": percentile(ordered, 50) / 1e6,
        "p99_ms": percentile(ordered, 99) / 1e6,
        "requests": requests,
        "errors": sum(r["errors"] for r in runs),
        "connections_per_request": sum(r["connections"] for r in runs) / requests,
        "connection_header": runs[-1]["connection_header"],
        "server_cpu_us_per_request": statistics.median(r["server_cpu_us"] for r in runs),
        "client_cpu_us_per_request": statistics.median(r["client_cpu_us"] for r in runs),
    }


def measure_workers(workers: int, settings: Any, workdir: Path) -> dict[str, Any]:
    """Both endpoints with each of CLIENTS client threads, `http_rounds` rounds, endpoint order
    rotated."""
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
    names = list(ENDPOINTS)
    with running_server(workers, workdir) as server:
        for name in names:  # warm-up: every worker has served both routes
            runs.setdefault((0, name), []).append(load(server, name, 2, 1.0, 100))
        for r in range(settings.http_rounds):
            for clients in CLIENTS:
                for name in names[r % 2 :] + names[: r % 2]:
                    result = load(server, name, clients, settings.http_seconds, settings.http_max_requests)
                    runs.setdefault((clients, name), []).append(result)
        writes = log_writes(server)
    decided = sum(
        r["requests"] - r["errors"] for (_, name), rs in runs.items() if name == "decision" for r in rs
    )
    rows = []
    for (clients, name), results in sorted(runs.items()):
        if clients:
            rows.append({"workers": workers, "clients": clients, "endpoint": name, **combine(results)})
    for row in rows:
        trivial = next(x for x in rows if x["clients"] == row["clients"] and x["endpoint"] == "trivial")
        row["ratio_to_trivial"] = row["per_s"] / trivial["per_s"]
    return {"rows": rows, "answered": decided, "logged": logged_rows(server.db), "writes": writes}


def log_writes(server: Server) -> dict[str, float]:
    """The service's own histogram of decision-log writes (GET /metrics), over the whole run."""
    _, body = Client(server.port).call("GET", "/metrics")
    values, commits = {}, {}
    for line in body.decode().splitlines():
        name, _, value = line.rpartition(" ")
        if name.startswith(LOG_METRIC):
            values[name[len(LOG_METRIC) :]] = float(value)
        elif name.startswith(COMMIT_METRIC):
            commits[name[len(COMMIT_METRIC) :]] = float(value)
    count = values.get('_count{backend="sqlite"}', 0.0)
    within_1ms = values.get('_bucket{backend="sqlite",le="0.001"}', 0.0)
    fsyncs = commits.get('_count{backend="sqlite"}', 0.0)
    return {
        "writes": count,
        "mean_ms": values.get('_sum{backend="sqlite"}', 0.0) / count * 1000 if count else 0.0,
        "over_1ms_share": 1 - within_1ms / count if count else 0.0,
        "commits": fsyncs,
        "requests_per_commit": commits.get('_sum{backend="sqlite"}', 0.0) / fsyncs if fsyncs else 0.0,
    }


def logged_rows(db: Path) -> int:
    """Rows in the decision log after the server stopped: proof the durable log was on."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])


def run(settings: Any, workdir: Path) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    log_check = {}
    for workers in (1, 2):
        result = measure_workers(workers, settings, workdir)
        rows += result["rows"]
        log_check[f"{workers}_workers"] = {
            "decisions_answered": result["answered"],
            "rows": result["logged"],
            "writes": result["writes"],
        }
    endpoints = {k: f"{m} {p}" for k, (m, p, _) in ENDPOINTS.items()}
    return {"endpoints": endpoints, "rows": rows, "decision_log": log_check}
