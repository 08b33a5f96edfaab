"""Service configuration, read once from `DOORGIFTE_*` environment variables.

The engine never reads the environment (DESIGN.md lesson 7); this module is the
one place that does, and it refuses values it cannot use instead of guessing,
so a typo in a deployment stops the start-up with a clear message.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from service.tokens import Token, TokensFileError
from service.tokens import load as load_tokens

if TYPE_CHECKING:
    from engine.api import Engine, Limits

PREFIX = "DOORGIFTE_"
DEFAULT_DB = "var/decisions.sqlite3"
DEFAULT_MAX_BODY = 1_048_576
DEFAULT_MAX_BATCH = 1000
DEFAULT_EVAL_TIMEOUT = 10.0
#: the engine's chain limits (`engine.api.MAX_DEPTH`, `MAX_NODES`, `MAX_LOCATIONS`; a test checks they agree)
DEFAULT_MAX_DEPTH = 10
DEFAULT_MAX_NODES = 200
DEFAULT_MAX_LOCATIONS = 1000
DEFAULT_REPLAY_MAX_RUNNING = 2
#: request threads per `doorgifte serve` worker (`--threads`)
DEFAULT_THREADS = 4
#: batches of at least this many flows are shared with the helper processes (service/batch_pool.py)
DEFAULT_BATCH_PARALLEL_MIN = 64
MIN_SESSION_KEY = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: set by `doorgifte serve --workers N` (N > 1) before prometheus_client is imported
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def default_batch_processes(workers: int = 1) -> int:
    """One batch helper process when a core is left over by the service's `workers`, else none:
    with a worker per core, a helper would only take CPU from another worker's requests."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 1 if (cores or 1) > workers else 0


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Config:
    #: a SQLite file path, or a postgresql:// URL shared by several instances
    db: str = DEFAULT_DB
    #: largest request body in bytes; larger bodies are refused before they are read
    max_body: int = DEFAULT_MAX_BODY
    log_level: str = "INFO"
    #: extra policy directories, loaded after the shipped `policies/`
    policy_path: tuple[Path, ...] = ()
    #: another reference-data directory instead of the shipped `adequacy_data/`
    data_path: Path | None = None
    #: most flows in one `POST /v1/decisions/batch`
    max_batch: int = DEFAULT_MAX_BATCH
    #: seconds one request may spend waiting for and running evaluations
    eval_timeout: float = DEFAULT_EVAL_TIMEOUT
    #: deepest processing chain (the root recipient is depth 1); deeper is 422 chain_too_large
    max_depth: int = DEFAULT_MAX_DEPTH
    #: most recipients (the root and every sub-processor) in one flow; more is 422 chain_too_large
    max_nodes: int = DEFAULT_MAX_NODES
    #: most locations over every recipient of one flow; more is 422 chain_too_large
    max_locations: int = DEFAULT_MAX_LOCATIONS
    #: directories below which `POST /v1/replays` may name candidate policies or reference data
    replay_paths: tuple[Path, ...] = ()
    #: most replay jobs running at once from `POST /v1/replays` (each starts worker processes)
    replay_max_running: int = DEFAULT_REPLAY_MAX_RUNNING
    #: the tokens file (SPEC section 15); None: no access control, every endpoint is open
    tokens_file: Path | None = None
    #: the tokens it lists, checked when the configuration is read
    tokens: tuple[Token, ...] = ()
    #: signs the dashboard's session cookies: `DOORGIFTE_SESSION_KEY`, else random per start (read
    #: before gunicorn forks, so its workers share it; a restart then signs everyone out)
    session_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False, compare=False)
    #: proxies in front of the service whose X-Forwarded-Proto/-Host/-For are trusted (0: none)
    proxy_hops: int = 0
    #: helper processes per service process that decide a share of a large batch (0: none)
    batch_processes: int = field(default_factory=default_batch_processes)
    #: the fewest flows in a batch that the helper processes share
    batch_parallel_min: int = DEFAULT_BATCH_PARALLEL_MIN

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name)
            return value.strip() if value is not None and value.strip() else None

        tokens_path, tokens = _tokens(get("TOKENS_FILE"))
        return cls(
            db=get("DB") or DEFAULT_DB,
            max_body=_positive_int("MAX_BODY", get("MAX_BODY"), DEFAULT_MAX_BODY),
            log_level=_log_level(get("LOG_LEVEL")),
            policy_path=_paths(env.get(PREFIX + "POLICY_PATH", "")),
            data_path=_directory("DATA_PATH", get("DATA_PATH")),
            max_batch=_positive_int("MAX_BATCH", get("MAX_BATCH"), DEFAULT_MAX_BATCH),
            eval_timeout=_positive_float("EVAL_TIMEOUT", get("EVAL_TIMEOUT"), DEFAULT_EVAL_TIMEOUT),
            max_depth=_positive_int("MAX_DEPTH", get("MAX_DEPTH"), DEFAULT_MAX_DEPTH),
            max_nodes=_positive_int("MAX_NODES", get("MAX_NODES"), DEFAULT_MAX_NODES),
            max_locations=_positive_int("MAX_LOCATIONS", get("MAX_LOCATIONS"), DEFAULT_MAX_LOCATIONS),
            replay_paths=_paths(env.get(PREFIX + "REPLAY_PATHS", "")),
            replay_max_running=_positive_int(
                "REPLAY_MAX_RUNNING", get("REPLAY_MAX_RUNNING"), DEFAULT_REPLAY_MAX_RUNNING
            ),
            tokens_file=tokens_path,
            tokens=tokens,
            session_key=_session_key(get("SESSION_KEY")),
            proxy_hops=_count("PROXY_HOPS", get("PROXY_HOPS")),
            batch_processes=_count("BATCH_PROCESSES", get("BATCH_PROCESSES"), default_batch_processes()),
            batch_parallel_min=_positive_int(
                "BATCH_PARALLEL_MIN", get("BATCH_PARALLEL_MIN"), DEFAULT_BATCH_PARALLEL_MIN
            ),
        )

    @property
    def access_control(self) -> bool:
        """Whether requests need a bearer token (a tokens file is configured)."""
        return self.tokens_file is not None

    @property
    def limits(self) -> Limits:
        """The engine's chain limits (imported here, so that reading the config stays light)."""
        from engine.api import Limits

        return Limits(max_depth=self.max_depth, max_nodes=self.max_nodes, max_locations=self.max_locations)

    def engine(self) -> Engine:
        """The engine this configuration asks for: shipped and extra policies, the reference data
        of `data_path` or the shipped one, loaded and validated (LoadError names file and line)."""
        from engine.api import Engine

        return Engine.load(list(self.policy_path) or None, self.data_path, self.limits)

    def check_rule_base(self) -> None:
        """Load and validate every policy and data file without building a rule engine."""
        from engine.api import load_checked

        load_checked(list(self.policy_path), self.data_path)

    @property
    def uses_postgres(self) -> bool:
        return is_postgres_url(self.db)

    @property
    def log_level_number(self) -> int:
        return int(getattr(logging, self.log_level))


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def _positive_int(name: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not a whole number") from None
    if value <= 0:
        raise ConfigError(f"{PREFIX}{name}={raw!r} must be above 0")
    return value


def _count(name: str, raw: str | None, default: int = 0) -> int:
    """A whole number from 0, `default` when unset."""
    if raw == "0":
        return 0
    return _positive_int(name, raw, default)


def _positive_float(name: str, raw: str | None, default: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{PREFIX}{name}={raw!r} must be a finite number above 0")
    return value


def _log_level(raw: str | None) -> str:
    if raw is None:
        return "INFO"
    level = raw.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{PREFIX}LOG_LEVEL={raw!r} is not one of {', '.join(LOG_LEVELS)}")
    return level


def _paths(raw: str) -> tuple[Path, ...]:
    """`os.pathsep`-separated directories; empty entries are ignored."""
    return tuple(Path(part) for part in raw.split(os.pathsep) if part.strip())


def _tokens(raw: str | None) -> tuple[Path | None, tuple[Token, ...]]:
    """The tokens file named by DOORGIFTE_TOKENS_FILE, read and checked; a missing file is an error."""
    if raw is None:
        return None, ()
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{PREFIX}TOKENS_FILE={raw!r} is not a file")
    try:
        return path, load_tokens(path)
    except TokensFileError as exc:
        raise ConfigError(f"{PREFIX}TOKENS_FILE: {exc}") from None


def _session_key(raw: str | None) -> bytes:
    """The dashboard's cookie-signing key: at least 32 characters when given, else random."""
    if raw is None:
        return secrets.token_bytes(32)
    if len(raw) < MIN_SESSION_KEY:
        raise ConfigError(
            f"{PREFIX}SESSION_KEY must be at least {MIN_SESSION_KEY} characters (openssl rand -hex 32)"
        )
    return raw.encode()


def _directory(name: str, raw: str | None) -> Path | None:
    if raw is None:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise ConfigError(f"{PREFIX}{name}={raw!r} is not a directory")
    return path
