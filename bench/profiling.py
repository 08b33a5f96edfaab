"""Where the time goes: cProfile of one benchmark flow in process, or of a real gunicorn worker.

    python -m bench.profiling flow chain_3hop_6loc [N]   # N x engine.evaluate + model_dump
    python -m bench.profiling http [N]                   # N x POST /v1/decisions, 1 worker

The HTTP profile runs the service's own gunicorn application (service.server) with 1
threaded worker of 1 thread: each thread that handles requests starts a profiler of its own
at its first request, and they are written out together when the worker exits, so the
profile covers Flask, the engine and the wait for the decision log exactly as deployed
(times are wall clock, so the fsync shows as that wait). Not profiled: the worker's main
thread (gunicorn's accept, parsing and keep-alive loop, mostly waiting) and the log's writer
thread (which runs the commit). Not part of `make bench`: cProfile
slows Python code down unevenly, so it tells where time goes, not how much there is.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.flows import BENCHMARK_FLOWS, TODAY

TOP = 30


def show(stats: pstats.Stats, total_calls: int) -> None:
    print(f"per call: {stats.total_tt / total_calls * 1e6:.0f} us under the profiler")  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(TOP)
    stats.sort_stats("tottime").print_stats(TOP)


def profile_flow(name: str, count: int) -> None:
    from engine.api import Engine

    engine, payload = Engine.load(), BENCHMARK_FLOWS[name]()
    for _ in range(500):
        engine.evaluate(payload, today=TODAY).model_dump(mode="json")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        engine.evaluate(payload, today=TODAY).model_dump(mode="json")
    profiler.disable()
    show(pstats.Stats(profiler), count)


def serve_profiled(port: int, stats_path: str) -> None:
    """`doorgifte serve --workers 1 --threads 1`, with the worker profiled from start to exit."""
    import threading

    from service import jsonlog, server
    from service.config import Config

    profilers: list[cProfile.Profile] = []
    local = threading.local()

    def start() -> None:
        local.profiler = cProfile.Profile()
        profilers.append(local.profiler)
        local.profiler.enable()

    class Profiled(server.Server):  # type: ignore[misc]
        def load(self) -> Any:
            app = super().load()

            def profiled(environ: Any, start_response: Any) -> Any:
                if getattr(local, "profiler", None) is None:  # a request thread's first request
                    start()
                return app(environ, start_response)

            return profiled

    def worker_exit(_server: Any, _worker: Any) -> None:
        stats = None
        for profiler in profilers:
            profiler.create_stats()
            stats = pstats.Stats(profiler) if stats is None else stats.add(profiler)
        if stats is not None:
            stats.dump_stats(stats_path)

    config = Config.from_env()
    jsonlog.configure(config.log_level_number)
    opts = server.options(config, "127.0.0.1", port, 1, threads=1) | {"worker_exit": worker_exit}
    Profiled(config, opts).run()


def profile_http(count: int) -> None:
    import os
    import signal
    import subprocess

    from bench.http import ENDPOINTS, Client, Server, free_port, wait_ready

    method, path, body = ENDPOINTS["decision"]
    with tempfile.TemporaryDirectory(prefix="doorgifte-profile-") as tmp:
        port, stats_path, log = free_port(), f"{tmp}/worker.prof", Path(tmp) / "server.log"
        env = {**os.environ, "DOORGIFTE_DB": f"{tmp}/decisions.sqlite3"}
        command = [sys.executable, "-m", "bench.profiling", "_serve", str(port), stats_path]
        with log.open("wb") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_ready(Server(port, proc.pid, Path(tmp), log), proc)
            client = Client(port)
            for _ in range(count):
                status, _ = client.call(method, path, body)
                assert status == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=40)
        show(pstats.Stats(stats_path), count)


def main(argv: list[str]) -> None:
    match argv:
        case ["flow", name, *rest]:
            profile_flow(name, int(rest[0]) if rest else 2_000)
        case ["http", *rest]:
            profile_http(int(rest[0]) if rest else 2_000)
        case ["_serve", port, stats_path]:
            serve_profiled(int(port), stats_path)
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
