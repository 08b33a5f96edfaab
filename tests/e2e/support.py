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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any

import requests

from tests.service.support import FLOWS, logged_ids  # noqa: F401 - shared with the service tests

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DOORGIFTE = Path(sys.executable).parent / "doorgifte"

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
    threads: int | None = None  # `serve --threads` (its default when None)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    logdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="doorgifte-e2e-")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr_path(self) -> Path:
        return self.logdir / "stderr"

    def start(self, ready: bool = True) -> Server:
        """Start and wait until `GET /readyz` answers 200, or with `ready=False` only `GET /healthz`
        (for a server whose decision log is unusable on purpose, so that it is never ready)."""
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
            *(["--threads", str(self.threads)] if self.threads is not None else []),
        ]
        with open(self.logdir / "stdout", "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )
        self._wait_ready("/readyz" if ready else "/healthz")
        return self

    def _wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"doorgifte serve exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if requests.get(self.url + path, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"GET {path} did not answer 200 within {READY_TIMEOUT} s:\n{self.tail()}")

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


def log_export(db: str) -> list[dict[str, Any]]:
    """`doorgifte log export --db DB`, the installed command, as parsed JSON lines."""
    result = subprocess.run(
        [str(DOORGIFTE), "log", "export", "--db", db], capture_output=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def assert_problem(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem of this status and code over HTTP; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code and body["type"] and body["title"]
    return body


# ---------------------------------------------------------------- file systems that fail


class MountUnavailable(Exception):
    """Why a file system cannot be mounted here (the tests skip with it)."""


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "1m", read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs mounted on `path` (created), unmounted afterwards: a disk that really fills
    up at `size`, or one that is really read-only, for root too (which file modes do not stop).

    Needs root and a kernel that lets us mount (not every container does): otherwise raises
    MountUnavailable with the reason.
    """
    if os.geteuid() != 0:
        raise MountUnavailable("mounting a tmpfs needs root")
    if shutil.which("mount") is None:
        raise MountUnavailable("no mount command")
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0755" + (",ro" if read_only else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "doorgifte-test", str(path)], capture_output=True, timeout=30
    )
    if done.returncode != 0:
        raise MountUnavailable(f"mount -t tmpfs failed: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)  # still busy


def remount(path: Path, read_only: bool) -> None:
    """Switch a mounted tmpfs between read-only and read-write."""
    mode = "ro" if read_only else "rw"
    done = subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


@contextlib.contextmanager
def read_only_directory(path: Path) -> Iterator[Callable[[], None]]:
    """`path` as a directory in which nothing can be created, not even by root; yields a function
    that makes it writable again. Ways tried in order: file modes (when not root), a read-only
    tmpfs mount (remounted read-write), the immutable attribute (`chattr +i`). Raises
    MountUnavailable listing why each failed when none works here."""
    if os.geteuid() != 0:
        path.mkdir(parents=True)
        path.chmod(0o555)
        try:
            yield lambda: path.chmod(0o755)
        finally:
            path.chmod(0o755)
        return
    reasons = []
    try:
        with tmpfs(path, size="4m", read_only=True):
            yield lambda: remount(path, read_only=False)
        return
    except MountUnavailable as exc:
        reasons.append(str(exc))
    path.mkdir(parents=True, exist_ok=True)
    done = (
        subprocess.run(["chattr", "+i", str(path)], capture_output=True, timeout=30)
        if shutil.which("chattr")
        else None
    )
    if done is None or done.returncode != 0:
        reasons.append(
            "chattr +i failed: " + (done.stderr.decode(errors="replace").strip() if done else "no chattr")
        )
        raise MountUnavailable("; ".join(reasons))
    try:
        yield lambda: subprocess.run(["chattr", "-i", str(path)], check=True, timeout=30)
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, timeout=30)


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


def postgres_server() -> Iterator[Postgres]:
    """A throwaway PostgreSQL server for a test module (use as a module-scoped fixture). It is
    skipped with the reason when it cannot start, and fails instead under
    DOORGIFTE_REQUIRE_POSTGRES=1 (`make test-postgres`)."""
    import pytest

    def unavailable(reason: str) -> None:
        if os.environ.get("DOORGIFTE_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)

    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[postgres]')")
    server = Postgres()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        unavailable(f"PostgreSQL cannot be started here: {exc}")
    yield server
    server.stop()
