"""`doorgifte serve`: the app under gunicorn, with N threaded (`gthread`) workers of T threads.

Why gunicorn, also for N=1: gunicorn's master restarts a crashed worker, and on SIGTERM lets
every worker finish its requests in flight (graceful_timeout) before it exits. Processes are
what scale the decisions: the rule engine's C extension holds the GIL, so each worker
evaluates one flow at a time (shared notes/performance.md). The threads of a worker overlap
what is not evaluation: above all the wait for the decision log's commit, which concurrent
requests of one worker share (group commit, service/decision_log.py), so one fsync answers
several of them; and `gthread` keeps client connections open between requests. The app is
not preloaded: each worker builds its own app and so its own durable-rules host after the
fork, as durable-rules must not be shared between processes. The master validates the
policies and data once (without building a rule engine) so that a broken rule base stops
`serve` at once with every problem listed, instead of failing each worker.

With N > 1, prometheus_client runs in multiprocess mode: `serve` creates a fresh
temporary directory for it before prometheus_client is imported, and removes it
when gunicorn exits.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from service.config import DEFAULT_THREADS, MULTIPROC_ENV, Config
from service.jsonlog import JsonFormatter

log = logging.getLogger("doorgifte.server")
#: settings only newer gunicorn versions know
OPTIONAL = frozenset({"control_socket_disable"})
THREADS = DEFAULT_THREADS


class JsonGunicornLogger(Logger):
    """gunicorn's own messages (start, worker boot and exit) as JSON lines too."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: Config, options: dict[str, Any]):
        self.config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in OPTIONAL and key not in self.cfg.settings:  # an older gunicorn without it
                continue
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Called in each worker after the fork: one app, one engine per process."""
        from service.app import create_app

        return create_app(self.config)


def _child_exit(server: Any, worker: Any) -> None:
    """Let prometheus_client drop a dead worker's live gauges (multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def options(config: Config, host: str, port: int, workers: int, threads: int = THREADS) -> dict[str, Any]:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    opts: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": False,
        # a worker busier than this is killed by the master; the evaluation limit comes first
        "timeout": max(30, math.ceil(config.eval_timeout) + 30),
        "graceful_timeout": 30,
        "accesslog": None,  # the app logs one JSON line per request itself
        "errorlog": "-",
        "loglevel": config.log_level.lower(),
        "logger_class": JsonGunicornLogger,
        "proc_name": "doorgifte",
        # gunicorn 27's runtime control socket lives at one path per user ($HOME/.gunicorn):
        # several instances would take it from each other, and nothing here needs it
        "control_socket_disable": True,
    }
    if workers > 1:
        opts["child_exit"] = _child_exit
    opts["when_ready"] = _ready_line(host, port)
    return opts


def _ready_line(host: str, port: int) -> Any:
    """One plain line on standard output once the server listens, with where to start reading
    (standard error carries only the JSON log lines)."""
    shown = f"[{host}]" if ":" in host else host

    def when_ready(server: Any) -> None:
        print(f"ready: http://{shown}:{port}/docs", flush=True)

    return when_ready


def serve(config: Config, host: str, port: int, workers: int, threads: int = THREADS) -> int:
    """Run until SIGTERM or SIGINT; return gunicorn's exit status."""
    metrics_dir = _multiprocess_dir() if workers > 1 else None
    master = os.getpid()
    try:
        log.info(
            "starting",
            extra={
                "fields": {
                    "bind": f"{host}:{port}",
                    "workers": workers,
                    "threads": threads,
                    "metrics_dir": metrics_dir,
                }
            },
        )
        Server(config, options(config, host, port, workers, threads)).run()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        # a worker leaves gunicorn through this frame too (it was forked inside run()):
        # only the master may remove the directory the other workers still write to
        if metrics_dir is not None and os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            os.environ.pop(MULTIPROC_ENV, None)
    return 0


def _multiprocess_dir() -> str:
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before its multiprocess directory was set")
    path = tempfile.mkdtemp(prefix="doorgifte-metrics-")
    os.environ[MULTIPROC_ENV] = path
    return path
