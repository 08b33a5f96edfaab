"""A real `doorgifte serve` in a subprocess on 127.0.0.1, and a throwaway PostgreSQL server.

Every wait is bounded: a server that is not ready within its limit fails the
test with the last lines of its stderr; stopping sends SIGTERM to the server's
own process group (gunicorn master and workers) and SIGKILL after a grace time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DOORGIFTE = Path(sys.executable).parent / "doorgifte"
FLOWS = json.loads((REPO / "tests" / "service" / "data" / "flows.json").read_text(encoding="utf-8"))
READY_TIMEOUT = 40.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """One `doorgifte serve` process; `url` once started."""

    db: str
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    logdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="doorgifte-e2e-")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr_path(self) -> Path:
        return self.logdir / "stderr"

    def start(self) -> Server:
        self.port = free_port()
        env = {**os.environ, "DOORGIFTE_DB": self.db, **self.env}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        argv = [
            str(DOORGIFTE),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with open(self.logdir / "stdout", "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"doorgifte serve exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if requests.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"GET /readyz did not answer 200 within {READY_TIMEOUT} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_lines(self) -> list[dict[str, Any]]:
        """The server's stderr as parsed JSON lines (every line must be one)."""
        return [json.loads(line) for line in self.stderr_path.read_text().splitlines() if line.strip()]

    def send(self, sig: int) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, grace: float = 20.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.send(sig)
        try:
            return self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            return self.proc.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.logdir, ignore_errors=True)


# ---------------------------------------------------------------- PostgreSQL


class PostgresUnavailable(Exception):
    """Why a PostgreSQL server cannot be started here (the tests skip with it)."""


@dataclass
class Postgres:
    """A throwaway cluster from Debian's binaries, on a free port of 127.0.0.1, trust auth."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="doorgifte-pg-")))
    port: int = 0
    bindir: Path | None = None
    user: str | None = None  # the OS user that runs it when we are root

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> Postgres:
        found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise PostgresUnavailable("no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)")
        self.bindir = Path(found[-1]).parent
        if os.geteuid() == 0:
            self.user = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.base, user=self.user)
        self.port = free_port()
        data = self.base / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=on"
        log = str(self.base / "server.log")
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", log, "-w", "-t", "30", "start")
        return self

    def stop(self) -> None:
        if self.bindir is not None and (self.base / "data" / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable):
                self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "fast", "-w", "-t", "20", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        assert self.bindir is not None
        argv = [str(self.bindir / tool), *args]
        if self.user is not None:
            argv = ["runuser", "-u", self.user, "--", *argv]
        try:
            result = subprocess.run(argv, capture_output=True, timeout=60, cwd=self.base)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{tool} could not run: {exc}") from exc
        if result.returncode != 0:
            text = (result.stderr or result.stdout).decode(errors="replace").strip().splitlines()[-5:]
            raise PostgresUnavailable(f"{tool} failed ({result.returncode}): {' / '.join(text)}")


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
