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

Group commit: `write` hands its entries to the process's writer thread (`GroupCommit`) and
waits. The writer takes everything that queued while the previous commit was on its way to
disk and writes it in one transaction with one commit (one fsync), then releases each waiting
writer; so concurrent requests of one process (gunicorn's threads) share an fsync. A writer is
released only after the commit of its own entries returned; when that commit fails, every
writer of the group gets the error (LogUnavailable) and none of the group's rows is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import sqlite3
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
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
    "recipient",
    "conditions_count",
    "denials_count",
    "changes_on",
    "vendor_list_version",
    "token_name",
    "open_actions",
)
#: columns added after the first release (every one from `reference` on), nullable, added to an
#: older table when it is opened
ADDED_COLUMNS = COLUMNS[COLUMNS.index("reference") :]
#: columns that are not TEXT (both back ends accept these type names)
COLUMN_TYPES = {"conditions_count": "INTEGER", "denials_count": "INTEGER"}
#: columns of `decision_labels` added later: the labelled decision's place in the log's order, so
#: that a label filter walks one index newest first (filled from `decisions` when added)
LABEL_ADDED_COLUMNS = {"decided_at": "TEXT", "seq": "BIGINT"}
#: columns of `vendor_revisions` added later, nullable: the token name that stored the revision
VENDOR_ADDED_COLUMNS = {"token_name": "TEXT"}
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, UTC: text order is time order
#: most entries one group commit takes from the queue (a batch larger than this is taken whole)
GROUP_MAX_ENTRIES = 1000
#: longest a writer waits for its group's commit before it gives up with LogUnavailable (its
#: entries may still be committed: a decision in flight, never one that was answered)
COMMIT_WAIT_S = 60.0

log = logging.getLogger("doorgifte.decision_log")
#: (requests, entries, seconds) of one group commit, committed or failed
CommitHook = Callable[[int, int, float], None]


class LogUnavailable(Exception):
    """The decision log cannot be written or read right now."""


class _Waiter:
    """One `write` call waiting in the queue: its entries, then its group's outcome."""

    __slots__ = ("entries", "done", "error")

    def __init__(self, entries: Sequence[LogEntry]):
        self.entries = entries
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommit:
    """One writer thread per process that commits, in one transaction, whatever has queued.

    `submit` queues a request's entries and blocks until the transaction holding them has
    committed (returns) or failed (raises). The thread starts on the first submit and again
    in a forked child (a thread does not survive a fork) or if it ever died; it is a daemon,
    and `close` lets it finish what has queued and stop.
    """

    def __init__(
        self,
        commit: Callable[[list[LogEntry]], None],
        max_entries: int = GROUP_MAX_ENTRIES,
        wait_s: float = COMMIT_WAIT_S,
    ):
        self._commit = commit
        self.max_entries = max_entries
        self.wait_s = wait_s
        self.on_commit: CommitHook | None = None
        self._setup()

    def _setup(self) -> None:
        self._pid = os.getpid()
        self._ready = threading.Condition(threading.Lock())
        self._queue: deque[_Waiter] = deque()
        self._thread: threading.Thread | None = None
        self._closing = False

    @property
    def queued(self) -> int:
        """Writers waiting for the writer thread to take them (not those being committed)."""
        return len(self._queue)

    def submit(self, entries: Sequence[LogEntry]) -> None:
        """Block until `entries` are committed; LogUnavailable when their group's commit failed."""
        if self._pid != os.getpid():  # a forked child: the parent's thread and queue are not ours
            self._setup()
        waiter = _Waiter(entries)
        with self._ready:
            if self._closing:
                raise LogUnavailable("the decision log is closed")
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="doorgifte-log-writer", daemon=True)
                self._thread.start()
            self._queue.append(waiter)
            self._ready.notify()
        if not waiter.done.wait(self.wait_s):
            raise LogUnavailable(f"the decision log did not commit within {self.wait_s:g} s")
        error = waiter.error
        if error is None:
            return
        if isinstance(error, LogUnavailable):
            raise LogUnavailable(str(error)) from error
        raise RuntimeError(f"the decision log writer failed: {error!r}") from error

    def _take(self) -> list[_Waiter] | None:
        """The next group: every queued writer, up to `max_entries` entries (at least one
        writer, whatever its size); None once closing with nothing left."""
        with self._ready:
            while not self._queue:
                if self._closing:
                    return None
                self._ready.wait()
            group = [self._queue.popleft()]
            count = len(group[0].entries)
            while self._queue and count + len(self._queue[0].entries) <= self.max_entries:
                waiter = self._queue.popleft()
                group.append(waiter)
                count += len(waiter.entries)
            return group

    def _run(self) -> None:
        while True:
            group = self._take()
            if group is None:
                return
            entries = [entry for waiter in group for entry in waiter.entries]
            error: BaseException | None = None
            started = time.perf_counter()
            try:
                self._commit(entries)
            except BaseException as exc:  # every writer of the group gets it; the thread goes on
                error = exc
            elapsed = time.perf_counter() - started
            for waiter in group:  # only now, after the commit returned: each may answer
                waiter.error = error
                waiter.done.set()
            hook = self.on_commit
            if hook is not None:
                try:
                    hook(len(group), len(entries), elapsed)
                except Exception:  # metrics must never stop the writer
                    log.exception("the decision log's commit hook failed")

    def close(self, timeout: float = 30.0) -> None:
        """Commit what has queued, then stop the thread (a later submit starts a new one)."""
        with self._ready:
            thread = self._thread if self._pid == os.getpid() else None
            self._closing = True
            self._ready.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._ready:
            self._closing = False
            self._thread = None


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
    #: summary columns (SPEC section 13), so a log query never parses a response; NULL on older rows
    recipient: str | None = None  # the root recipient's name
    conditions_count: int | None = None
    denials_count: int | None = None
    changes_on: str | None = None  # the horizon's date (SPEC section 12), when the decision had one
    vendor_list_version: str | None = None
    #: the name of the bearer token the decision was asked with (SPEC section 15); None when open
    token_name: str | None = None
    #: compact JSON of `[actor, actor_role, code]` per planned action (`open_actions_text`), so the
    #: dashboard's open actions by actor never parse a response; NULL on older rows
    open_actions: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry as one `doorgifte log export` line."""
        out: dict[str, Any] = asdict(self)
        out["request"] = json.loads(self.request)
        out["response"] = json.loads(self.response)
        out["labels"] = json.loads(self.labels) if self.labels else {}
        out["open_actions"] = json.loads(self.open_actions) if self.open_actions else None
        return out

    def label_rows(self) -> list[tuple[str, str, str]]:
        return [(self.decision_id, k, v) for k, v in (json.loads(self.labels) if self.labels else {}).items()]


@dataclass(frozen=True)
class LogQuery:
    """The filters of `GET /v1/decisions` (SPEC section 13): every one given must match.

    `since` and `until` bound `decided_at` (log time text, both inclusive); `after` is the
    (decided_at, seq) of the previous page's last entry: keyset pagination, so an entry logged
    while a client pages is never shown twice nor shifts the pages (it sorts before the first).
    """

    vendor: str | None = None
    reference: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    policy: str | None = None
    decision: str | None = None
    recipient: str | None = None
    since: str | None = None
    until: str | None = None
    after: tuple[str, int] | None = None
    limit: int = 100

    def equalities(self) -> list[tuple[str, str]]:
        """(column, value) of the single-value filters, most selective first: the first one
        drives the query (its index is walked newest first), the others are checked per entry."""
        given = (
            ("reference", self.reference),
            ("vendor_id", self.vendor),
            ("recipient", self.recipient),
            ("policy_id", self.policy),
            ("decision", self.decision),
        )
        return [(column, value) for column, value in given if value is not None]


#: what a summary is read from; `response` is added only for rows older than the summary columns
SUMMARY_COLUMNS = (
    "seq",
    "decision_id",
    "decided_at",
    "reference",
    "labels",
    "vendor_id",
    "vendor_revision",
    "vendor_list_version",
    "policy_id",
    "policy_version",
    "decision",
    "recipient",
    "conditions_count",
    "denials_count",
    "changes_on",
)
#: what the transfer register picks its decisions by; their responses are read by seq
REGISTER_COLUMNS = ("seq", "decision_id", "decided_at", "reference", "vendor_id", "policy_id", "changes_on")
#: a decision's register head: by vendor, else by reference (SPEC section 13)
HEAD_OF = (
    "CASE WHEN vendor_id IS NOT NULL THEN 'vendor' ELSE 'reference' END,"
    " coalesce(vendor_id, reference), policy_id, seq, decided_at"
)
#: a head moves only forward in the log's order (two writers may commit out of time order)
HEAD_UPSERT = (
    "ON CONFLICT (kind, key, policy_id) DO UPDATE SET seq = excluded.seq, decided_at = excluded.decided_at"
    " WHERE excluded.decided_at > register_heads.decided_at"
    " OR (excluded.decided_at = register_heads.decided_at AND excluded.seq > register_heads.seq)"
)
#: a day's count of decisions per policy and outcome moves by the day's entries of each write
DAY_UPSERT = (
    "ON CONFLICT (day, policy_id, decision, slot) DO UPDATE SET count = decision_days.count + excluded.count"
)
#: what `heads()` answers per register head: the head, then its decision's summary columns
HEAD_COLUMNS = (
    "kind",
    "key",
    "policy_id",
    "seq",
    "decision_id",
    "decided_at",
    "decision",
    "recipient",
    "conditions_count",
    "denials_count",
    "changes_on",
    "vendor_revision",
    "open_actions",
)
#: rows per day, policy and outcome in `decision_days` (see `_day_counts`)
DAY_SLOTS = 8
#: most values in one `IN (...)` list (SQLite allows 32,766 since 3.32; PostgreSQL 65,535)
IN_LIST = 500


def _head_key(entry: LogEntry) -> tuple[str, str, str]:
    """The register head an entry moves (HEAD_OF): by vendor, else by reference, per policy."""
    if entry.vendor_id:
        return ("vendor", entry.vendor_id, entry.policy_id)
    return ("reference", entry.reference or "", entry.policy_id)


def _day_counts(entries: Sequence[LogEntry]) -> list[tuple[str, str, str, int, int]]:
    """(day, policy, decision, slot, count) of a batch, in key order: one upsert per day row,
    taken in the same order by every writer, so two PostgreSQL writers never deadlock. Each
    entry counts in one of DAY_SLOTS rows of its day (by its random id): concurrent writers of
    the same day and outcome then rarely wait for each other's commit; reads sum the slots."""
    counts: dict[tuple[str, str, str, int], int] = {}
    for e in entries:
        key = (e.decided_at[:10], e.policy_id, e.decision, zlib.crc32(e.decision_id.encode()) % DAY_SLOTS)
        counts[key] = counts.get(key, 0) + 1
    return [(*key, count) for key, count in sorted(counts.items())]


def open_actions_text(actions: Iterable[Sequence[str | None]]) -> str:
    """The `open_actions` column: compact JSON of `[actor, actor_role, code]` per planned action
    (SPEC section 10), so the dashboard groups open actions without parsing responses."""
    return json.dumps([list(action) for action in actions], ensure_ascii=False, separators=(",", ":"))


def open_actions_of(actions: Iterable[Any]) -> str:
    """The `open_actions` column of a decision's planned actions (`Decision.actions`)."""
    return open_actions_text((a.actor, a.actor_role, a.code) for a in actions)


def actions_of_response(response: Any) -> list[list[Any]]:
    """`[actor, actor_role, code]` of a stored response's planned actions: the `open_actions` of a
    row logged before the column existed (or of an answer that records none: empty)."""
    actions = response.get("actions") if isinstance(response, dict) else None
    return [
        [a.get("actor"), a.get("actor_role"), a.get("code")] for a in actions or [] if isinstance(a, dict)
    ]


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime(TIME_FORMAT)


def normalise_time(text: str) -> str:
    """An ISO 8601 date or time (naive means UTC) in the log's own format, for `since`: a date
    alone is its first microsecond. ValueError (or OverflowError) when it is neither."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime(TIME_FORMAT)


def until_time(text: str) -> str:
    """`until` as log time, inclusive: a time, or a date meaning its last microsecond, so that
    `2026-01-31` includes the 31st (log queries, the register and replay read it alike)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        return day_end(dt.date.fromisoformat(text.strip()))
    return normalise_time(text)


def day_end(day: dt.date) -> str:
    """The last microsecond of a day as log time text: `decided_at <=` it is on or before the day."""
    return day.strftime("%Y-%m-%dT23:59:59.999999Z")


def _schema(serial: str) -> list[str]:
    """The tables and indexes, for both back ends; `_add_columns` brings an older table up to date
    before the indexes on new columns are created."""
    columns = ", ".join(
        f"{name} {COLUMN_TYPES.get(name, 'TEXT')}" + ("" if name in ADDED_COLUMNS else " NOT NULL")
        for name in COLUMNS
    )
    label_columns = "".join(f", {name} {kind}" for name, kind in LABEL_ADDED_COLUMNS.items())
    vendor_columns = "".join(f", {name} {kind}" for name, kind in VENDOR_ADDED_COLUMNS.items())
    return [
        f"CREATE TABLE IF NOT EXISTS decisions (seq {serial}, {columns}, UNIQUE (decision_id))",
        "CREATE INDEX IF NOT EXISTS decisions_decided_at ON decisions (decided_at)",
        "CREATE TABLE IF NOT EXISTS decision_labels (decision_id TEXT NOT NULL,"
        f" key TEXT NOT NULL, value TEXT NOT NULL{label_columns}, PRIMARY KEY (decision_id, key))",
        # vendor documents, append-only: a revision is never changed or removed
        "CREATE TABLE IF NOT EXISTS vendor_revisions (vendor_id TEXT NOT NULL, revision INTEGER NOT NULL,"
        " name TEXT NOT NULL, list_version TEXT NOT NULL, digest TEXT NOT NULL, created_at TEXT NOT NULL,"
        f" document TEXT NOT NULL{vendor_columns}, PRIMARY KEY (vendor_id, revision))",
    ]


#: indexes on columns an older table may lack until `_add_columns` ran
LATE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS decisions_reference ON decisions (reference)",
    "CREATE INDEX IF NOT EXISTS decisions_vendor ON decisions (vendor_id, vendor_revision)",
    "CREATE INDEX IF NOT EXISTS decision_labels_key_value ON decision_labels (key, value)",
    # log queries (SPEC section 13): each filter is one index range walked newest first, in the
    # order of the answer (decided_at, seq), so a page reads `limit` entries and no more
    *(
        f"CREATE INDEX IF NOT EXISTS decisions_{name}_time ON decisions ({column}, decided_at, seq)"
        for name, column in (
            ("vendor", "vendor_id"),
            ("reference", "reference"),
            ("policy", "policy_id"),
            ("decision", "decision"),
            ("recipient", "recipient"),
        )
    ),
    "CREATE INDEX IF NOT EXISTS decision_labels_time ON decision_labels (key, value, decided_at, seq)",
    # the register's latest decision per vendor or reference within one policy
    "CREATE INDEX IF NOT EXISTS decisions_policy_vendor_time"
    " ON decisions (policy_id, vendor_id, decided_at, seq)",
    "CREATE INDEX IF NOT EXISTS decisions_policy_reference_time"
    " ON decisions (policy_id, reference, decided_at, seq)",
)


class DecisionLog:
    """Shared by both back ends: one connection per thread, SQL with `{p}` placeholders."""

    backend = ""
    placeholder = "?"

    def __init__(self, where: str):
        self.where = where
        self._local = threading.local()
        self.group = GroupCommit(self.commit)
        self._all: list[Any] = []
        self._all_lock = threading.Lock()
        marks = ", ".join([self.placeholder] * len(COLUMNS))
        self._insert = f"INSERT INTO decisions ({', '.join(COLUMNS)}) VALUES ({marks})"
        mark = self.placeholder
        # a label row copies its decision's place in the log, in the same transaction
        self._insert_label = (
            "INSERT INTO decision_labels (decision_id, key, value, decided_at, seq)"
            f" SELECT decision_id, {mark}, {mark}, decided_at, seq FROM decisions WHERE decision_id = {mark}"
        )
        self._select = f"SELECT {', '.join(COLUMNS)} FROM decisions"
        self._upsert_head = (
            f"INSERT INTO register_heads (kind, key, policy_id, seq, decided_at) SELECT {HEAD_OF}"
            f" FROM decisions WHERE decision_id = {mark} AND (vendor_id IS NOT NULL OR reference IS NOT NULL)"
            f" {HEAD_UPSERT}"
        )
        self._upsert_day = (
            "INSERT INTO decision_days (day, policy_id, decision, slot, count)"
            f" VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) {DAY_UPSERT}"
        )

    #: the primary-key column of the table, in the back end's dialect
    serial = ""

    # ------------------------------------------------------------ back-end specifics

    def _open(self) -> Any:
        """A new connection, set up for durable writes; raises LogUnavailable."""
        raise NotImplementedError

    def _prepare_schema(self, cur: Any) -> None:
        """Anything the back end runs inside the schema transaction before creating it."""

    def _columns(self, cur: Any, table: str) -> set[str]:
        """The columns a table has now."""
        raise NotImplementedError

    def _add_columns(self, cur: Any) -> None:
        """Columns added since a log file was created, added to it (nullable: old rows keep NULL).

        The label rows' copy of their decision's place (`decided_at`, `seq`) is filled in the
        same transaction, once, so that a label filter finds old labelled decisions too."""
        present = self._columns(cur, "decisions")
        for name in ADDED_COLUMNS:
            if name not in present:
                cur.execute(f"ALTER TABLE decisions ADD COLUMN {name} {COLUMN_TYPES.get(name, 'TEXT')}")
        present = self._columns(cur, "decision_labels")
        missing = [name for name in LABEL_ADDED_COLUMNS if name not in present]
        for name in missing:
            cur.execute(f"ALTER TABLE decision_labels ADD COLUMN {name} {LABEL_ADDED_COLUMNS[name]}")
        if missing:
            of_decision = "FROM decisions d WHERE d.decision_id = decision_labels.decision_id"
            cur.execute(
                f"UPDATE decision_labels SET decided_at = (SELECT d.decided_at {of_decision}),"
                f" seq = (SELECT d.seq {of_decision})"
            )
        present = self._columns(cur, "vendor_revisions")
        for name, kind in VENDOR_ADDED_COLUMNS.items():
            if name not in present:
                cur.execute(f"ALTER TABLE vendor_revisions ADD COLUMN {name} {kind}")

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
                self._create_heads(cur)
                self._create_days(cur)
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
        self.group.close()  # commits what has queued first: its writers are waiting for it
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------ operations

    @property
    def on_commit(self) -> CommitHook | None:
        """Called after each group commit with (requests, entries, seconds), in the writer thread."""
        return self.group.on_commit

    @on_commit.setter
    def on_commit(self, hook: CommitHook | None) -> None:
        self.group.on_commit = hook

    def write(self, entries: Sequence[LogEntry]) -> None:
        """Write every entry durably, all in one transaction, or raise LogUnavailable; returns
        only once they are committed. Through the group commit: concurrent writers of this
        process share one transaction (and one fsync)."""
        if entries:
            self.group.submit(entries)

    def commit(self, entries: Sequence[LogEntry]) -> None:
        """Write every entry in one transaction, durably, now, in this thread's connection
        (the writer thread's, under group commit), or raise LogUnavailable."""
        if not entries:
            return
        rows = [tuple(getattr(e, c) for c in COLUMNS) for e in entries]
        labels = [(key, value, decision_id) for e in entries for decision_id, key, value in e.label_rows()]
        with self._guard("write"):
            conn = self._conn()
            with self._transaction(conn) as cur:
                cur.executemany(self._insert, rows)
                if labels:
                    cur.executemany(self._insert_label, labels)
                heads = sorted((_head_key(e), e.decision_id) for e in entries if e.vendor_id or e.reference)
                if heads:  # in the heads' own order in every writer: two never wait on each other
                    cur.executemany(self._upsert_head, [(decision_id,) for _, decision_id in heads])
                # last: the day rows are the ones every writer of the day shares, held until commit
                cur.executemany(self._upsert_day, _day_counts(entries))

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
        self,
        vendor_id: str,
        name: str,
        list_version: str,
        digest: str,
        document: str,
        token_name: str | None = None,
    ) -> tuple[int, bool]:
        """Store a new revision unless the latest has this digest: (revision, stored).
        `token_name` names the bearer token that stored it (None without access control)."""
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
                columns = "vendor_id, revision, name, list_version, digest, created_at, document, token_name"
                cur.execute(
                    f"INSERT INTO vendor_revisions ({columns}) VALUES ({', '.join([p] * 8)})",
                    (vendor_id, revision, name, list_version, digest, now(), document, token_name),
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

    def vendor_revisions(self, vendor_id: str) -> list[tuple[int, str, str, str, str | None]]:
        """(revision, list_version, digest, created_at, token_name) of every revision, oldest first."""
        return [
            (int(r[0]), r[1], r[2], r[3], r[4])
            for r in self._rows(
                "SELECT revision, list_version, digest, created_at, token_name FROM vendor_revisions"
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

    # ------------------------------------------------------------ log queries (SPEC section 13)

    def _unindexed(self, column: str) -> str:
        """The column in a condition the planner must not pick an index for (SQLite: unary +),
        so that the query walks the index of the filter chosen to drive it."""
        return column

    def summaries(self, query: LogQuery) -> list[dict[str, Any]]:
        """Up to `query.limit + 1` entries, newest first (decided_at, then seq), as SUMMARY_COLUMNS;
        a row logged before the summary columns existed also carries its `response`."""
        sql, args = self._summary_sql(query)
        rows = [dict(zip(SUMMARY_COLUMNS, row, strict=True)) for row in self._rows(sql, tuple(args))]
        texts = self.responses([row["seq"] for row in rows if row["conditions_count"] is None])
        for row in rows:
            if row["seq"] in texts:
                row["response"] = texts[row["seq"]]
        return rows

    def _summary_sql(self, query: LogQuery) -> tuple[str, list[Any]]:
        """One SELECT walking one index newest first: the most selective equality filter's,
        else the first label's (label rows keep their decision's time and seq), else the
        time index; every other filter is checked on the entries that index yields."""
        equalities, labels = query.equalities(), list(query.labels)
        by_label = bool(labels) and (not equalities or equalities[0][0] in ("policy_id", "decision"))
        t = "l0" if by_label else "d"
        parts = [self._label_driver(*labels.pop(0))] if by_label else []
        parts += [self._equal(c, v, drives=i == 0 and not by_label) for i, (c, v) in enumerate(equalities)]
        parts += [self._label_check(key, value) for key, value in labels]
        parts += self._time_range(query, t)
        where = " WHERE " + " AND ".join(sql for sql, _ in parts) if parts else ""
        source = "decision_labels l0 JOIN decisions d ON d.seq = l0.seq" if by_label else "decisions d"
        columns = ", ".join(f"d.{c}" for c in SUMMARY_COLUMNS)
        order = f" ORDER BY {t}.decided_at DESC, {t}.seq DESC LIMIT {self.placeholder}"
        args = [arg for _, part_args in parts for arg in part_args]
        return f"SELECT {columns} FROM {source}{where}{order}", [*args, query.limit + 1]

    def _label_driver(self, key: str, value: str) -> tuple[str, list[Any]]:
        p = self.placeholder
        return f"l0.key = {p} AND l0.value = {p}", [key, value]

    def _equal(self, column: str, value: str, drives: bool) -> tuple[str, list[Any]]:
        name = f"d.{column}" if drives else self._unindexed(f"d.{column}")
        return f"{name} = {self.placeholder}", [value]

    def _label_check(self, key: str, value: str) -> tuple[str, list[Any]]:
        p = self.placeholder
        labelled = "SELECT 1 FROM decision_labels l WHERE l.decision_id = d.decision_id"
        return f"EXISTS ({labelled} AND l.key = {p} AND l.value = {p})", [key, value]

    def _time_range(self, query: LogQuery, t: str) -> list[tuple[str, list[Any]]]:
        """`since`, `until` and the keyset cursor: ranges on the driving index's time and seq."""
        p = self.placeholder
        parts: list[tuple[str, list[Any]]] = []
        if query.since is not None:
            parts.append((f"{t}.decided_at >= {p}", [query.since]))
        if query.until is not None:
            parts.append((f"{t}.decided_at <= {p}", [query.until]))
        if query.after is not None:
            time, seq = query.after
            parts.append(
                (f"{t}.decided_at <= {p} AND ({t}.decided_at < {p} OR {t}.seq < {p})", [time, time, seq])
            )
        return parts

    def _create_heads(self, cur: Any) -> None:
        """The register's heads: the latest entry per vendor (else per reference) and policy, kept
        on every write, so that the register of today reads a few thousand rows instead of
        seeking through the log per key. A log older than the table gets it filled once."""
        if self._columns(cur, "register_heads"):
            return
        cur.execute(
            "CREATE TABLE register_heads (kind TEXT NOT NULL, key TEXT NOT NULL, policy_id TEXT NOT NULL,"
            " seq BIGINT NOT NULL, decided_at TEXT NOT NULL, PRIMARY KEY (kind, key, policy_id))"
        )
        for kind, key, which, outer in (
            ("vendor", "vendor_id", "vendor_id IS NOT NULL", "d.vendor_id IS NOT NULL"),
            (
                "reference",
                "reference",
                "vendor_id IS NULL AND reference IS NOT NULL",
                "d.vendor_id IS NULL AND d.reference IS NOT NULL",
            ),
        ):
            # each key's latest time, then the last entry logged at that time: two grouped scans
            cur.execute(
                "INSERT INTO register_heads (kind, key, policy_id, seq, decided_at)"
                f" SELECT '{kind}', d.{key}, d.policy_id, max(d.seq), d.decided_at FROM decisions d"
                f" JOIN (SELECT {key} AS k, policy_id AS pid, max(decided_at) AS at FROM decisions"
                f" WHERE {which} GROUP BY {key}, policy_id) m"
                f" ON d.{key} = m.k AND d.policy_id = m.pid AND d.decided_at = m.at"
                f" WHERE {outer}"
                f" GROUP BY d.{key}, d.policy_id, d.decided_at"
            )

    def _create_days(self, cur: Any) -> None:
        """The dashboard's decisions per day, policy and outcome (SPEC section 13), kept on every
        write, so that a chart of a month reads a hundred rows instead of counting the log. A log
        older than the table gets it filled once, by one grouped scan."""
        if self._columns(cur, "decision_days"):
            return
        cur.execute(
            "CREATE TABLE decision_days (day TEXT NOT NULL, policy_id TEXT NOT NULL, decision TEXT NOT NULL,"
            " slot SMALLINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (day, policy_id, decision, slot))"
        )
        cur.execute(  # an older log's counts go to slot 0; later writes spread over the slots
            "INSERT INTO decision_days (day, policy_id, decision, slot, count)"
            " SELECT substr(decided_at, 1, 10), policy_id, decision, 0, count(*) FROM decisions"
            " GROUP BY substr(decided_at, 1, 10), policy_id, decision"
        )

    def heads(self, policy: str | None = None) -> list[dict[str, Any]]:
        """Every register head (the latest decision per vendor, else per reference, and policy)
        with its decision's summary, as HEAD_COLUMNS, in no particular order (sorting them in SQL
        costs more than the overview's own sorting): what the dashboard's overview counts.
        `open_actions` is a list of [actor, actor_role, code]; for a row logged before that column
        existed it is read from the stored response, so an old log still shows its actions."""
        p = self.placeholder
        where, args = (f" WHERE h.policy_id = {p}", (policy,)) if policy is not None else ("", ())
        columns = ", ".join(
            f"h.{c}" if c in ("kind", "key", "policy_id", "seq") else f"d.{c}" for c in HEAD_COLUMNS
        )
        rows = self._rows(
            f"SELECT {columns} FROM register_heads h JOIN decisions d ON d.seq = h.seq{where}", args
        )
        heads = [dict(zip(HEAD_COLUMNS, row, strict=True)) for row in rows]
        texts = self.responses([head["seq"] for head in heads if head["open_actions"] is None])
        parsed: dict[str, list[list[Any]]] = {}  # heads repeat the same few plans: each parsed once
        for head in heads:
            text = head["open_actions"]
            if text is None:
                head["open_actions"] = actions_of_response(json.loads(texts[head["seq"]]))
                continue
            if text not in parsed:
                parsed[text] = json.loads(text)
            head["open_actions"] = [list(action) for action in parsed[text]]
        return heads

    def days(self, since: str, policy: str | None = None) -> list[tuple[str, str, int]]:
        """(day, decision, count) of the decisions logged on `since` (an ISO date) or later, summed
        over the policies unless one is given; by day, then decision."""
        p = self.placeholder
        where, args = f"day >= {p}", [since]
        if policy is not None:
            where += f" AND policy_id = {p}"
            args.append(policy)
        rows = self._rows(
            f"SELECT day, decision, sum(count) FROM decision_days WHERE {where}"
            " GROUP BY day, decision ORDER BY day, decision",
            tuple(args),
        )
        return [(day, decision, int(count)) for day, decision, count in rows]

    def latest(self, until: str, policy: str | None = None) -> list[dict[str, Any]]:
        """The transfer register's sources (see `_latest_by_seeking`): read from the heads when
        `until` is not before the newest of them (the register of today), else sought in the log."""
        newest = self._rows("SELECT max(decided_at) FROM register_heads", ())[0][0]
        if newest is not None and until < newest:
            return self._latest_by_seeking(until, policy)
        p = self.placeholder
        where, args = (f" WHERE policy_id = {p}", (policy,)) if policy is not None else ("", ())
        best: dict[tuple[str, str], tuple[str, int]] = {}
        for kind, key, decided_at, seq in self._rows(
            f"SELECT kind, key, decided_at, seq FROM register_heads{where}", args
        ):
            if (kind, key) not in best or (decided_at, int(seq)) > best[(kind, key)]:
                best[(kind, key)] = (decided_at, int(seq))
        seqs = sorted(seq for _, seq in best.values())
        found = []
        for start in range(0, len(seqs), IN_LIST):
            part = tuple(seqs[start : start + IN_LIST])
            marks = ", ".join([p] * len(part))
            found += self._rows(
                f"SELECT {', '.join(REGISTER_COLUMNS)} FROM decisions WHERE seq IN ({marks})", part
            )
        return [dict(zip(REGISTER_COLUMNS, row, strict=True)) for row in found]

    def _latest_by_seeking(self, until: str, policy: str | None = None) -> list[dict[str, Any]]:
        """The transfer register's sources (SPEC section 13): per vendor, its latest entry decided
        at or before `until`; per reference, the latest such entry without a vendor. Entries with
        neither are left out. Optionally only entries of one policy. As REGISTER_COLUMNS.

        Each distinct vendor and reference is found by one index seek from the one before (a loose
        index scan), and its latest entry by one more: two seeks per key, whatever the log's size.
        """
        p = self.placeholder
        in_policy = f" AND policy_id = {p}" if policy is not None else ""
        keys, picks, key_args, pick_args = [], [], [], []
        for name, key in (("vendors", "vendor_id"), ("refs", "reference")):
            keys.append(
                f"{name}(k) AS (SELECT min({key}) FROM decisions WHERE {key} IS NOT NULL{in_policy}"
                f" UNION ALL SELECT (SELECT min({key}) FROM decisions WHERE {key} > {name}.k{in_policy})"
                f" FROM {name} WHERE {name}.k IS NOT NULL)"
            )
            key_args += [policy, policy] if policy is not None else []
            no_vendor = f" AND {self._unindexed('vendor_id')} IS NULL" if key == "reference" else ""
            picks.append(
                f"SELECT (SELECT seq FROM decisions WHERE {key} = {name}.k AND decided_at <= {p}{in_policy}"
                f"{no_vendor} ORDER BY decided_at DESC, seq DESC LIMIT 1)"
                f" FROM {name} WHERE {name}.k IS NOT NULL"
            )
            pick_args += [until, policy] if policy is not None else [until]
        sql = (
            f"WITH RECURSIVE {', '.join(keys)} SELECT {', '.join(REGISTER_COLUMNS)} FROM decisions"
            f" WHERE seq IN ({' UNION ALL '.join(picks)})"
        )
        rows = self._rows(sql, (*key_args, *pick_args))
        return [dict(zip(REGISTER_COLUMNS, row, strict=True)) for row in rows]

    def responses(self, seqs: Sequence[int]) -> dict[int, str]:
        """The stored responses of these entries, by seq (for the register's rows)."""
        found: dict[int, str] = {}
        for start in range(0, len(seqs), IN_LIST):
            part = tuple(seqs[start : start + IN_LIST])
            marks = ", ".join([self.placeholder] * len(part))
            found.update(self._rows(f"SELECT seq, response FROM decisions WHERE seq IN ({marks})", part))
        return found

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

    def _unindexed(self, column: str) -> str:
        return f"+{column}"

    def _columns(self, cur: Any, table: str) -> set[str]:
        return {row[1] for row in cur.execute(f"PRAGMA table_info({table})").fetchall()}

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise LogUnavailable(f"cannot open the decision log {self.path}: {exc}") from exc
        try:
            # a new file's first switch to WAL needs the file to itself: two connections doing it
            # at once get SQLITE_BUSY at once (a lock upgrade SQLite refuses rather than wait on)
            mode = self._when_free(conn.cursor(), "PRAGMA journal_mode=WAL").fetchone()[0]
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
        """BEGIN IMMEDIATE: the write lock up front (see `_when_free`)."""
        self._when_free(cur, "BEGIN IMMEDIATE")

    def _when_free(self, cur: sqlite3.Cursor, sql: str) -> sqlite3.Cursor:
        """`sql`, retried after short pauses while another connection holds the lock it needs.

        SQLite's own busy handler sleeps a millisecond or more per retry, while one request's
        write holds the lock for a fraction of that; with several workers its sleeps, not the
        disk, would set the pace. Waits at most `busy_timeout` seconds, then fails.
        """
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.00005
        while True:
            try:
                return cur.execute(sql)
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

    def _columns(self, cur: Any, table: str) -> set[str]:
        cur.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = %s AND table_schema = current_schema()",
            (table,),
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
