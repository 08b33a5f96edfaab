"""Helper processes that decide a share of a large batch, so that a batch uses more than one core.

durable-rules holds the GIL and must never be used from two threads (engine/durable_adapter.py),
so a second core needs a second process with its own engine. Each service process (a gunicorn
worker) keeps a small pool of them (`DOORGIFTE_BATCH_PROCESSES`, default one when the machine
has a core more than `serve --workers`; 0: none). A batch of at least `DOORGIFTE_BATCH_PARALLEL_MIN` flows is
split: the helpers decide the tail shares while the service process decides the head, and the
answers are put back in order. Smaller batches, and every batch while no helper is ready, are
decided in the service process alone, exactly as before.

Same semantics as deciding in process, by construction:
- a helper answers each flow with `Decider._answer`, the service process's own code: a decision
  or that flow's problem (422, or 500 for an internal error), the same `today`, `logged` set
  the same way. A decision comes back as its JSON text, which the answer embeds as it is; the
  service process rebuilds the Decision from it (`Decision.model_validate_json`) for the log,
  the metrics and the summary. Logging and metrics stay in the service process.
- the deadline: a helper gets the time left and stops at the next flow boundary when it is
  up; the service process waits for each share no longer than the deadline, and a helper that
  has not answered by then is killed: the batch answers 503 `evaluation_timeout`, nothing
  logged.
- the rule base: a helper loads the policies and reference data the configuration names and
  says which versions it holds (`fingerprint`: every profile's version, the data's version,
  the message catalogue and the chain limits). A helper whose versions differ from the
  service process's engine is never used (the pool turns itself off, with a warning). The
  service never reloads its engine, and a scenario travels inside each flow, so a helper
  applies it to the same data.
- fail closed: a helper that dies, or fails outside a flow, before or during a batch is
  dropped and what it had not answered is decided in the service process; a dead helper is
  replaced when the next large batch comes. Nothing partial is ever answered.

Processes are started with `spawn` (never `fork`: a threaded worker's held locks would be
copied), lazily, by the first large batch, and in the background: that batch does not wait
for the helper's engine to load (about 2 s) and is decided in process. Helpers exit when
their service process closes the pipe (it exits) or terminates them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import pickle
import queue
import select
import signal
import socket
import struct
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.decision import Decision
from service.deciding import Answered, Decider
from service.errors import ProblemError

if TYPE_CHECKING:
    from engine.api import Engine, Limits
    from service.config import Config

log = logging.getLogger("doorgifte.batch_pool")

#: What a helper's decision costs the service process (receiving it, rebuilding the Decision
#: from its JSON), as a fraction of what deciding it and writing its JSON cost the helper.
#: Measured by CPU time on 1,000 mixed and varied flows (the service process takes in the
#: helpers' decisions between its own flows): at 0.3 and 0.45 the service process worked 35 %
#: to 60 % longer than its helper during the batch, at 0.6 both about as long. The shares are
#: chosen from it so that the service process and each helper finish together.
REBUILD_COST = 0.6
#: decisions a helper sends at a time: the service process rebuilds one part while the helper
#: works on the next
PART = 32
#: flows of its own share the service process decides between looks at what the helpers sent
STEP = 8
#: a helper still busy this long after its batch's deadline is taken as hung and killed
GRACE_S = 5.0
#: the longest a helper may take to load its engine before it is given up
START_TIMEOUT_S = 120.0
#: after a helper failed to start, the pool waits this long before it starts another
RETRY_AFTER_S = 30.0


@dataclasses.dataclass(frozen=True)
class Source:
    """What a helper loads: the rule base the configuration names, and how it runs."""

    policy_dirs: tuple[Path, ...]
    data_dir: Path | None
    limits: Limits
    timeout: float
    log_level: str

    @classmethod
    def of(cls, config: Config) -> Source:
        return cls(config.policy_path, config.data_path, config.limits, config.eval_timeout, config.log_level)


def fingerprint(engine: Engine) -> str:
    """The rule base an engine decides with: every profile's version (a digest of its rules,
    conclusions, settings and messages), the reference data's version (a digest of its files),
    the message catalogue and the chain limits."""
    content = [
        sorted((pid, profile.version) for pid, profile in engine.policies.profiles.items()),
        engine.reference.version,
        engine.policies.catalogue.templates,
        dataclasses.astuple(engine.limits),
    ]
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def shares(total: int, helpers: int) -> list[range]:
    """The batch's index ranges: the service process's own first, then one per helper. Each
    helper gets `h` flows and the service process `total - helpers * h`, with
    `own + REBUILD_COST * helpers * h = h` (both finish together). With two helpers or more
    the service process would have no share of its own and still be the last to finish:
    taking in their decisions is serial, so a second helper adds little."""
    per_helper = round(total / (1 + helpers * (1 - REBUILD_COST)))
    per_helper = min(per_helper, total // helpers)
    own = total - helpers * per_helper
    bounds = [0, own, *(own + (i + 1) * per_helper for i in range(helpers))]
    return [range(bounds[i], bounds[i + 1]) for i in range(helpers + 1)]


# ---------------------------------------------------------------- the pipe


class Channel:
    """Pickled messages over a socket pair, each read with one call that waits for all of it.

    Not `multiprocessing.Connection`: that reads a message in pieces, taking the GIL back after
    each, and in the service process the GIL is mostly held by the engine deciding its own
    share, so the helper stalled on a full socket buffer (measured: up to a third of its time).
    Here the service process's reader gives the GIL up once per message."""

    HEADER = struct.Struct("!Q")
    #: socket buffers asked for (the kernel may grant less): a part never waits for the reader
    BUFFER = 4 * 1024 * 1024

    def __init__(self, sock: socket.socket):
        self.sock = sock

    @classmethod
    def pair(cls) -> tuple[Channel, socket.socket]:
        """A channel for this process and the socket for the helper's end."""
        ours, theirs = socket.socketpair()
        for end, option in ((ours, socket.SO_RCVBUF), (theirs, socket.SO_SNDBUF)):
            with contextlib.suppress(OSError):
                end.setsockopt(socket.SOL_SOCKET, option, cls.BUFFER)
        return cls(ours), theirs

    def send(self, message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.sock.sendall(self.HEADER.pack(len(data)))
        self.sock.sendall(data)

    def recv(self) -> Any:
        (size,) = self.HEADER.unpack(self._exactly(self.HEADER.size))
        return pickle.loads(self._exactly(size))

    def poll(self) -> bool:
        """Whether a message has begun to arrive (or the other end is gone)."""
        return bool(select.select([self.sock], [], [], 0)[0])

    def close(self) -> None:
        self.sock.close()

    def _exactly(self, size: int) -> bytearray:
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:  # MSG_WAITALL: one call for all of it, unless a signal cuts it short
            count = self.sock.recv_into(view[got:], size - got, socket.MSG_WAITALL)
            if count == 0:
                raise EOFError("the other end closed the channel")
            got += count
        return buffer


# ---------------------------------------------------------------- the helper process


class _HelperDecider(Decider):
    """The service's own per-flow code (`_answer`), without a log or metrics: a helper only decides."""

    def __init__(self, engine: Engine, timeout: float):
        self.engine = engine
        self.timeout = timeout
        self._lock = threading.Lock()


def helper_main(sock: socket.socket, source: Source) -> None:
    """A helper process: load the engine, say which rule base it holds, then decide shares
    until the service process closes its end of the socket pair."""
    from engine.api import Engine
    from service import jsonlog

    conn = Channel(sock)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the service, which ends its helpers
    jsonlog.configure(source.log_level)
    try:
        engine = Engine.load(list(source.policy_dirs) or None, source.data_dir, source.limits)
    except Exception as exc:  # a rule base that no longer loads: the pool stays in process
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", fingerprint(engine)))
    decider = _HelperDecider(engine, source.timeout)
    while True:
        try:
            start, flows, today, seconds_left = conn.recv()
        except EOFError:  # the service process is gone
            return
        decide_share(conn, decider, start, flows, today, time.monotonic() + seconds_left)


def decide_share(
    conn: Channel, decider: Decider, start: int, flows: list[Any], today: dt.date, deadline: float
) -> None:
    """Answer `flows` (the batch's from index `start`) in parts, then `done`; `timeout` with the
    number answered when the deadline passes; `failed` when anything but a flow fails."""
    part: list[tuple[Any, ...]] = []
    done = 0
    try:
        for payload in flows:
            if time.monotonic() > deadline:
                conn.send(("timeout", done))
                return
            answer = decider._answer(start + done, payload, today, deadline)
            if answer.decision is not None:
                part.append((200, answer.decision.model_dump_json()))
            else:
                part.append((answer.status, answer.error, answer.reference))
            done += 1
            if len(part) == PART:
                conn.send(("part", part))
                part = []
        conn.send(("part", part))
        conn.send(("done",))
    except ProblemError as exc:  # only the engine lock's wait can raise it, and only on time
        conn.send(("timeout", done) if exc.code == "evaluation_timeout" else ("failed", exc.detail))
    except Exception as exc:
        log.error("a batch share failed in a helper process", exc_info=exc)
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))


# ---------------------------------------------------------------- the service process's side


class _Helper:
    """One helper process and the state of its pipe; changed under the pool's lock."""

    def __init__(self, process: BaseProcess, conn: Channel):
        self.process = process
        self.conn = conn
        self.started = time.monotonic()
        self.ready = False
        #: the deadline of the batch it is working on; None while idle
        self.busy_until: float | None = None
        self.dead = False

    def kill(self) -> None:
        self.dead = True
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(timeout=5)


class _Share:
    """A helper's share of one batch: a thread sends it and queues the replies, so that the
    service process never blocks on a pipe (a hung helper cannot stop the clock)."""

    def __init__(self, pool: BatchPool, helper: _Helper, indexes: range, flows: list[Any], today: dt.date):
        self.pool = pool
        self.helper = helper
        self.indexes = indexes
        self.replies: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        #: the share's answers taken in so far, and the index of the next
        self.answers: list[Answered] = []
        self.index = indexes.start
        self.complete = False
        deadline = helper.busy_until or time.monotonic()
        message = (indexes.start, flows[indexes.start : indexes.stop], today, deadline - time.monotonic())
        self.thread = threading.Thread(
            target=self._exchange, args=(message,), name=f"batch-share-{helper.process.pid}", daemon=True
        )
        self.thread.start()

    def _exchange(self, message: tuple[Any, ...]) -> None:
        try:
            self.helper.conn.send(message)
            while True:
                reply = self.helper.conn.recv()
                self.replies.put(reply)
                if reply[0] != "part":
                    break
        except Exception as exc:  # EOF, a broken pipe: the helper died
            self.replies.put(("dead", f"{type(exc).__name__}: {exc}"))
            self.pool.drop(self.helper)
        else:
            self.pool.release(self.helper, failed=reply[0] == "failed")

    def absorb(self, decider: Decider, flows: list[Any], today: dt.date, deadline: float, wait: bool) -> None:
        """Take in the answers that have arrived (`wait`: all of them, until the deadline), in
        order; what a dead or failed helper left is decided here. `complete` once all are in."""
        while not self.complete:
            try:
                if wait:
                    reply = self.replies.get(timeout=max(deadline - time.monotonic(), 0.0))
                else:
                    reply = self.replies.get_nowait()
            except queue.Empty:
                if not wait:
                    return
                self.helper.kill()  # it has not answered in time: hung, or far too slow
                raise decider.timed_out(self.index, len(flows)) from None
            kind: str = reply[0]
            body: Any = reply[1] if len(reply) > 1 else None  # parts, a count, or why it failed
            if kind == "timeout":
                raise decider.timed_out(self.indexes.start + int(body), len(flows))
            if kind == "part":
                try:
                    built = [_answered(self.index + i, item) for i, item in enumerate(body)]
                except Exception as exc:  # not a decision this process can take: ours is the answer
                    log.error("a helper's answer could not be read", exc_info=exc)
                    kind, body = "unreadable", f"{type(exc).__name__}: {exc}"
                else:
                    self.answers.extend(built)
                    self.index += len(built)
                    self.pool.count(len(built))
                    continue
            if kind == "done" and self.index == self.indexes.stop:
                self.complete = True
                return
            # dead, failed, unreadable, or done short of its share: the rest in this process
            self.pool.drop(self.helper)
            log.warning(
                "a helper process did not decide its share of a batch; deciding the rest here",
                extra={"fields": {"helper": self.helper.process.pid, "kind": kind, "reason": str(body)}},
            )
            rest = range(self.index, self.indexes.stop)
            self.answers.extend(decider.answer_flows(flows, rest, today, deadline))
            self.index, self.complete = self.indexes.stop, True


def _answered(index: int, item: tuple[Any, ...]) -> Answered:
    if item[0] == 200:
        return Answered(index, 200, decision=Decision.model_validate_json(item[1]), text=item[1])
    status, error, reference = item
    return Answered(index, status, error=error, reference=reference)


class BatchPool:
    """Up to `size` helper processes for one service process, started when first needed."""

    def __init__(self, source: Source, engine: Engine, size: int, min_flows: int):
        self.source = source
        self.engine = engine
        self.size = size
        self.min_flows = min_flows
        self._helpers: list[_Helper] = []
        self._lock = threading.Lock()
        self._fingerprint: str | None = None
        self._retry_at = 0.0
        self._closed = False
        #: set when a helper holds another rule base than this process: the pool stays off
        self.disabled: str | None = None
        #: flows decided by a helper so far
        self.helper_flows = 0

    @classmethod
    def for_service(cls, config: Config, engine: Engine) -> BatchPool | None:
        if config.batch_processes <= 0:
            return None
        return cls(Source.of(config), engine, config.batch_processes, config.batch_parallel_min)

    # ------------------------------------------------------------ deciding

    def decide(
        self, decider: Decider, flows: list[Any], today: dt.date, deadline: float
    ) -> list[Answered] | None:
        """The batch's answers in order, decided with the helpers that are ready; None when the
        batch is too small or no helper is ready (the caller decides it in process)."""
        if len(flows) < self.min_flows:
            return None
        helpers = self._take(deadline)
        if not helpers:
            return None
        own, *theirs = shares(len(flows), len(helpers))
        started: list[_Share] = []
        try:
            for helper, indexes in zip(helpers, theirs, strict=True):
                started.append(_Share(self, helper, indexes, flows, today))
            answers: list[Answered] = []
            for step in range(own.start, own.stop, STEP):
                answers.extend(
                    decider.answer_flows(flows, range(step, min(step + STEP, own.stop)), today, deadline)
                )
                for share in started:  # their decisions rebuilt while they work on
                    share.absorb(decider, flows, today, deadline, wait=False)
            for share in started:
                share.absorb(decider, flows, today, deadline, wait=True)
                answers.extend(share.answers)
            return answers
        finally:
            for helper in helpers[len(started) :]:
                self.release(helper)

    def _take(self, deadline: float) -> list[_Helper]:
        """The helpers ready and idle, marked busy until `deadline`; starts missing ones."""
        with self._lock:
            if self._closed or self.disabled:
                return []
            now = time.monotonic()
            for helper in self._helpers:
                self._check(helper, now)
            self._helpers = [h for h in self._helpers if not h.dead]
            while len(self._helpers) < self.size and now >= self._retry_at and not self.disabled:
                self._helpers.append(self._start())
            taken = [h for h in self._helpers if h.ready and h.busy_until is None]
            for helper in taken:
                helper.busy_until = deadline
            return taken

    def _check(self, helper: _Helper, now: float) -> None:
        """Under the lock: a starting helper's ready message read, a dead or hung one killed."""
        if helper.busy_until is not None:
            if now > helper.busy_until + GRACE_S:
                log.warning(
                    "a helper process is hung; killing it", extra={"fields": {"helper": helper.process.pid}}
                )
                helper.kill()
            return
        if not helper.process.is_alive():
            if helper.ready:
                helper.kill()
            else:
                self._failed_start(helper, f"exit status {helper.process.exitcode}")
            return
        if helper.ready:
            return
        try:
            if not helper.conn.poll():
                if now - helper.started > START_TIMEOUT_S:
                    self._failed_start(helper, f"not ready after {START_TIMEOUT_S:g} s")
                return
            kind, detail = helper.conn.recv()
        except (EOFError, OSError) as exc:
            self._failed_start(helper, f"{type(exc).__name__}: {exc}")
            return
        if kind != "ready":
            self._failed_start(helper, detail)
        elif detail != self._own_fingerprint():
            self.disabled = "a helper process loaded another rule base than this process"
            log.warning(
                "batch helper processes are off: a helper loaded other policies or reference data "
                "than this process's engine (were the files changed since it started?)",
                extra={"fields": {"helper": helper.process.pid}},
            )
            helper.kill()
        else:
            helper.ready = True
            log.info(
                "batch helper process ready",
                extra={"fields": {"helper": helper.process.pid, "seconds": round(now - helper.started, 2)}},
            )

    def _failed_start(self, helper: _Helper, reason: str) -> None:
        log.warning(
            "a batch helper process could not start",
            extra={"fields": {"helper": helper.process.pid, "reason": reason}},
        )
        helper.kill()
        self._retry_at = time.monotonic() + RETRY_AFTER_S

    def _own_fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.engine)
        return self._fingerprint

    def _start(self) -> _Helper:
        """Under the lock: one helper process started; it loads its engine on its own."""
        context = multiprocessing.get_context("spawn")
        ours, theirs = Channel.pair()
        process = context.Process(
            target=helper_main, args=(theirs, self.source), name="doorgifte-batch-helper", daemon=True
        )
        process.start()
        theirs.close()  # only the helper holds its end: its death is an EOF here
        log.info("batch helper process started", extra={"fields": {"helper": process.pid}})
        return _Helper(process, ours)

    def release(self, helper: _Helper, failed: bool = False) -> None:
        """A helper done with its share; one that failed outside a flow is not trusted again."""
        with self._lock:
            if failed:
                helper.kill()
            else:
                helper.busy_until = None

    def count(self, flows: int) -> None:
        with self._lock:
            self.helper_flows += flows

    def drop(self, helper: _Helper) -> None:
        with self._lock:
            helper.kill()

    # ------------------------------------------------------------ operating it

    def wait_ready(self, timeout: float) -> bool:
        """Start the helpers if needed and wait until all are ready (benchmarks and tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            taken = self._take(end)
            for helper in taken:
                self.release(helper)
            if len(taken) == self.size or self.disabled:
                return len(taken) == self.size
            time.sleep(0.05)
        return False

    def pids(self) -> list[int]:
        """The process ids of the helpers alive now."""
        with self._lock:
            return [h.process.pid for h in self._helpers if not h.dead and h.process.pid is not None]

    def close(self) -> None:
        """Stop every helper; the pool starts none again."""
        with self._lock:
            self._closed = True
            helpers, self._helpers = self._helpers, []
        for helper in helpers:
            helper.kill()
            with contextlib.suppress(Exception):
                helper.conn.close()
