"""The decision log of SPEC section 9: every answered decision, durable before the answer.

One row per decision: its id, the time, the request id it came with, the policy
and reference-data versions, the decision, and the request and response as JSON
text (the exact response that was answered, so `GET /v1/decisions/{id}` returns
it unchanged after a restart).

Two back ends with the same table:
- SQLite (the default, `var/decisions.sqlite3`): WAL mode with `synchronous=FULL`,
  so a committed row survives a crash or `kill -9` right after the answer. One
  connection per thread (sqlite3 connections must stay on their thread); the file
  and its directory are created when missing.
- PostgreSQL (`DOORGIFTE_DB=postgresql://...`, psycopg 3 from the `postgres`
  extra), for several instances sharing one log; commits are durable with the
  server's default `synchronous_commit=on`.

Any failure to write becomes `LogUnavailable`; the service answers it with a 503
and never sends a decision it could not log. A batch is written in one
transaction: all of its decisions or none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from service.config import is_postgres_url

COLUMNS = (
    "decision_id",
    "decided_at",
    "request_id",
    "policy_id",
    "policy_version",
    "reference_version",
    "decision",
    "request",
    "response",
    "reference",
    "labels",
    "vendor_id",
    "vendor_revision",
)
#: columns added after the first release, nullable, added to an older table when it is opened
ADDED_COLUMNS = ("reference", "labels", "vendor_id", "vendor_revision")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, UTC: text order is time order


class LogUnavailable(Exception):
    """The decision log cannot be written or read right now."""


@dataclass(frozen=True)
class LogEntry:
    decision_id: str
    decided_at: str
    request_id: str
    policy_id: str
    policy_version: str
    reference_version: str
    decision: str
    request: str  # JSON text of the flow request as received
    response: str  # JSON text of the decision as answered
    reference: str | None = None  # the caller's own id (SPEC section 10)
    labels: str | None = None  # JSON text of the caller's labels; also rows of decision_labels
    vendor_id: str | None = None  # a decision asked by vendor id (SPEC section 11)
    vendor_revision: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry as one `doorgifte log export` line."""
        out: dict[str, Any] = asdict(self)
        out["request"] = json.loads(self.request)
        out["response"] = json.loads(self.response)
        out["labels"] = json.loads(self.labels) if self.labels else {}
        return out

    def label_rows(self) -> list[tuple[str, str, str]]:
        return [(self.decision_id, k, v) for k, v in (json.loads(self.labels) if self.labels else {}).items()]


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime(TIME_FORMAT)


def normalise_time(text: str) -> str:
    """An ISO 8601 date or time (naive means UTC) in the log's own format, for `--since`."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime(TIME_FORMAT)


def _schema(serial: str) -> list[str]:
    """The tables and indexes, for both back ends; `_add_columns` brings an older table up to date
    before the indexes on new columns are created."""
    columns = ", ".join(f"{name} TEXT" + ("" if name in ADDED_COLUMNS else " NOT NULL") for name in COLUMNS)
    return [
        f"CREATE TABLE IF NOT EXISTS decisions (seq {serial}, {columns}, UNIQUE (decision_id))",
        "CREATE INDEX IF NOT EXISTS decisions_decided_at ON decisions (decided_at)",
        "CREATE TABLE IF NOT EXISTS decision_labels (decision_id TEXT NOT NULL,"
        " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (decision_id, key))",
        # vendor documents, append-only: a revision is never changed or removed
        "CREATE TABLE IF NOT EXISTS vendor_revisions (vendor_id TEXT NOT NULL, revision INTEGER NOT NULL,"
        " name TEXT NOT NULL, list_version TEXT NOT NULL, digest TEXT NOT NULL, created_at TEXT NOT NULL,"
        " document TEXT NOT NULL, PRIMARY KEY (vendor_id, revision))",
    ]


#: indexes on columns an older table may lack until `_add_columns` ran
LATE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS decisions_reference ON decisions (reference)",
    "CREATE INDEX IF NOT EXISTS decisions_vendor ON decisions (vendor_id, vendor_revision)",
    "CREATE INDEX IF NOT EXISTS decision_labels_key_value ON decision_labels (key, value)",
)


class DecisionLog:
    """Shared by both back ends: one connection per thread, SQL with `{p}` placeholders."""

    backend = ""
    placeholder = "?"

    def __init__(self, where: str):
        self.where = where
        self._local = threading.local()
        self._all: list[Any] = []
        self._all_lock = threading.Lock()
        marks = ", ".join([self.placeholder] * len(COLUMNS))
        self._insert = f"INSERT INTO decisions ({', '.join(COLUMNS)}) VALUES ({marks})"
        mark = self.placeholder
        self._insert_label = (
            f"INSERT INTO decision_labels (decision_id, key, value) VALUES ({mark}, {mark}, {mark})"
        )
        self._select = f"SELECT {', '.join(COLUMNS)} FROM decisions"

    #: the primary-key column of the table, in the back end's dialect
    serial = ""

    # ------------------------------------------------------------ back-end specifics

    def _open(self) -> Any:
        """A new connection, set up for durable writes; raises LogUnavailable."""
        raise NotImplementedError

    def _prepare_schema(self, cur: Any) -> None:
        """Anything the back end runs inside the schema transaction before creating it."""

    def _columns(self, cur: Any) -> set[str]:
        """The columns the decisions table has now."""
        raise NotImplementedError

    def _add_columns(self, cur: Any) -> None:
        """Columns added since a log file was created, added to it (nullable: old rows keep NULL)."""
        present = self._columns(cur)
        for name in ADDED_COLUMNS:
            if name not in present:
                cur.execute(f"ALTER TABLE decisions ADD COLUMN {name} TEXT")

    def _transaction(self, conn: Any) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    def _errors(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    # ------------------------------------------------------------ connections

    def _connect(self) -> Any:
        """Open a connection and create the table and index if they are missing."""
        conn = self._open()
        try:
            with self._transaction(conn) as cur:
                self._prepare_schema(cur)
                for statement in _schema(self.serial):
                    cur.execute(statement)
                self._add_columns(cur)
                for statement in LATE_INDEXES:
                    cur.execute(statement)
        except BaseException:
            conn.close()
            raise
        return conn

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def _drop(self) -> None:
        """Forget this thread's connection after an error; the next call opens a new one."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._all_lock:
                if conn in self._all:
                    self._all.remove(conn)
            with contextlib.suppress(Exception):
                conn.close()

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        failures: tuple[type[BaseException], ...] = (*self._errors(), OSError)
        try:
            yield
        except LogUnavailable:
            self._drop()
            raise
        except failures as exc:
            self._drop()
            raise LogUnavailable(f"cannot {action} the decision log ({self.backend}): {exc}") from exc

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------ operations

    def write(self, entries: Sequence[LogEntry]) -> None:
        """Write every entry in one transaction, durably, or raise LogUnavailable."""
        if not entries:
            return
        rows = [tuple(getattr(e, c) for c in COLUMNS) for e in entries]
        labels = [row for e in entries for row in e.label_rows()]
        with self._guard("write"):
            conn = self._conn()
            with self._transaction(conn) as cur:
                cur.executemany(self._insert, rows)
                if labels:
                    cur.executemany(self._insert_label, labels)

    def get(self, decision_id: str) -> LogEntry | None:
        with self._guard("read"):
            cur = self._conn().cursor()
            try:
                cur.execute(f"{self._select} WHERE decision_id = {self.placeholder}", (decision_id,))
                row = cur.fetchone()
            finally:
                cur.close()
        return LogEntry(*row) if row else None

    def entries(self, since: str | None = None) -> Iterator[LogEntry]:
        """Every entry in the order it was written, optionally from a time on."""
        where, args = (f" WHERE decided_at >= {self.placeholder}", (since,)) if since else ("", ())
        with self._guard("read"):
            yield from self._iterate(f"{self._select}{where} ORDER BY seq", args)

    def _iterate(self, sql: str, args: tuple[Any, ...]) -> Iterator[LogEntry]:
        cur = self._conn().cursor()
        try:
            cur.execute(sql, args)
            for row in cur:
                yield LogEntry(*row)
        finally:
            cur.close()

    # ------------------------------------------------------------ vendor revisions

    def put_vendor(
        self, vendor_id: str, name: str, list_version: str, digest: str, document: str
    ) -> tuple[int, bool]:
        """Store a new revision unless the latest has this digest: (revision, stored)."""
        p = self.placeholder
        with self._guard("write"):
            conn = self._conn()
            with self._transaction(conn) as cur:
                self._lock_vendor(cur, vendor_id)
                cur.execute(
                    f"SELECT revision, digest FROM vendor_revisions WHERE vendor_id = {p}"
                    " ORDER BY revision DESC LIMIT 1",
                    (vendor_id,),
                )
                latest = cur.fetchone()
                if latest is not None and latest[1] == digest:
                    return int(latest[0]), False
                revision = 1 if latest is None else int(latest[0]) + 1
                columns = "vendor_id, revision, name, list_version, digest, created_at, document"
                cur.execute(
                    f"INSERT INTO vendor_revisions ({columns}) VALUES ({', '.join([p] * 7)})",
                    (vendor_id, revision, name, list_version, digest, now(), document),
                )
        return revision, True

    def _lock_vendor(self, cur: Any, vendor_id: str) -> None:
        """Serialise two writers of one vendor (SQLite's write transaction already does)."""

    def vendor(self, vendor_id: str, revision: int | None = None) -> tuple[int, str, str] | None:
        """(revision, created_at, document JSON) of a revision, the latest by default."""
        p = self.placeholder
        where, args = f"vendor_id = {p}", [vendor_id]
        if revision is not None:
            where += f" AND revision = {p}"
            args.append(revision)  # type: ignore[arg-type]
        rows = self._rows(
            f"SELECT revision, created_at, document FROM vendor_revisions WHERE {where}"
            " ORDER BY revision DESC LIMIT 1",
            tuple(args),
        )
        return (int(rows[0][0]), rows[0][1], rows[0][2]) if rows else None

    def vendor_revisions(self, vendor_id: str) -> list[tuple[int, str, str, str]]:
        """(revision, list_version, digest, created_at) of every revision, oldest first."""
        return [
            (int(r[0]), r[1], r[2], r[3])
            for r in self._rows(
                "SELECT revision, list_version, digest, created_at FROM vendor_revisions"
                f" WHERE vendor_id = {self.placeholder} ORDER BY revision",
                (vendor_id,),
            )
        ]

    def vendors(self) -> list[tuple[str, str, int, str, str]]:
        """(id, name, latest revision, list_version, updated) of every vendor."""
        return [
            (r[0], r[1], int(r[2]), r[3], r[4])
            for r in self._rows(
                "SELECT v.vendor_id, v.name, v.revision, v.list_version, v.created_at FROM vendor_revisions v"
                " WHERE v.revision ="
                " (SELECT max(revision) FROM vendor_revisions w WHERE w.vendor_id = v.vendor_id)"
                " ORDER BY v.vendor_id",
                (),
            )
        ]

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        with self._guard("read"):
            cur = self._conn().cursor()
            try:
                cur.execute(sql, args)
                return list(cur.fetchall())
            finally:
                cur.close()

    def check(self) -> None:
        """Raise LogUnavailable unless the log can take a write transaction now."""
        with self._guard("use"), self._transaction(self._conn()) as cur:
            cur.execute("SELECT count(*) FROM decisions WHERE decision_id = ''")


class SqliteLog(DecisionLog):
    backend = "sqlite"
    serial = "INTEGER PRIMARY KEY"

    def __init__(self, path: str | Path, busy_timeout: float = 5.0):
        if str(path) in ("", ":memory:") or str(path).startswith("file:"):
            raise ValueError(f"the decision log needs a file path, not {str(path)!r}")
        super().__init__(str(path))
        self.path = Path(path)
        self.busy_timeout = busy_timeout

    def _errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def _columns(self, cur: Any) -> set[str]:
        return {row[1] for row in cur.execute("PRAGMA table_info(decisions)").fetchall()}

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise LogUnavailable(f"cannot open the decision log {self.path}: {exc}") from exc
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise LogUnavailable(f"the decision log {self.path} cannot use WAL mode (got {mode!r})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=0")  # _begin waits for the write lock itself
        except BaseException:
            conn.close()
            raise
        return conn

    @contextlib.contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
        """BEGIN IMMEDIATE takes the write lock up front: the transaction commits whole or not at all."""
        cur = conn.cursor()
        try:
            self._begin(cur)
            try:
                yield cur
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.rollback()
                raise
            cur.execute("COMMIT")
        finally:
            cur.close()

    def _begin(self, cur: sqlite3.Cursor) -> None:
        """BEGIN IMMEDIATE, retried after short pauses while another worker holds the write lock.

        SQLite's own busy handler sleeps a millisecond or more per retry, while one request's
        write holds the lock for a fraction of that; with several workers its sleeps, not the
        disk, would set the pace. Waits at most `busy_timeout` seconds, then fails.
        """
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.00005
        while True:
            try:
                cur.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # extended codes included
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


class PostgresLog(DecisionLog):
    backend = "postgresql"
    placeholder = "%s"
    SCHEMA_LOCK = 0x646F6F72  # "door": serialises concurrent schema creation by several workers
    serial = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

    def __init__(self, url: str, connect_timeout: int = 5):
        try:
            import psycopg
        except ImportError as exc:  # the optional extra is not installed
            raise ValueError(
                "a postgresql:// decision log needs psycopg: pip install 'doorgifte[postgres]'"
            ) from exc
        self._psycopg = psycopg
        super().__init__(_redact(url))
        self.url = url
        self.connect_timeout = connect_timeout

    def _errors(self) -> tuple[type[BaseException], ...]:
        return (self._psycopg.Error,)

    def _open(self) -> Any:
        try:
            return self._psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)
        except self._psycopg.Error as exc:
            raise LogUnavailable(f"cannot connect to the decision log {self.where}: {exc}") from exc

    def _prepare_schema(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (self.SCHEMA_LOCK,))

    def _lock_vendor(self, cur: Any, vendor_id: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"vendor:{vendor_id}",))

    def _columns(self, cur: Any) -> set[str]:
        cur.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'decisions' AND table_schema = current_schema()"
        )
        return {row[0] for row in cur.fetchall()}

    @contextlib.contextmanager
    def _transaction(self, conn: Any) -> Iterator[Any]:
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    def _iterate(self, sql: str, args: tuple[Any, ...]) -> Iterator[LogEntry]:
        """A server-side cursor, so an export of a large log does not load it all at once."""
        conn = self._conn()
        with conn.transaction(), conn.cursor(name="doorgifte_export") as cur:
            cur.execute(sql, args)
            for row in cur:
                yield LogEntry(*row)


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def open_log(db: str) -> DecisionLog:
    """The log for `DOORGIFTE_DB`: a postgresql:// URL, a SQLite file path, or `sqlite:///abs/path`.
    Connects lazily."""
    if is_postgres_url(db):
        return PostgresLog(db)
    return SqliteLog(sqlite_path(db))


def sqlite_path(db: str) -> str:
    """The file of a SQLite `DOORGIFTE_DB`: `sqlite:///abs/path` is the absolute path `/abs/path`
    (SQLAlchemy's four-slash form is read the same); any other URL scheme is refused, never
    taken as a folder name (`sqlite:` used to become a directory in the working directory)."""
    if db.startswith("sqlite:///"):
        return "/" + db.removeprefix("sqlite://").lstrip("/")
    if re.match(r"^[a-z][a-z0-9+.-]*:", db) and not re.match(r"^[A-Za-z]:[\\/]", db):
        raise ValueError(f"the decision log is a file path, sqlite:///path or postgresql://..., not {db!r}")
    return db


def timed_write(log: DecisionLog, entries: Sequence[LogEntry], observe: Callable[[float], None]) -> None:
    """Write and report the duration (also of a failed write, which is the slow case)."""
    start = time.perf_counter()
    try:
        log.write(entries)
    finally:
        observe(time.perf_counter() - start)
