"""The only module that imports `durable`: a private, timer-free, serialised engine.

Why it looks like this (measured, see shared/notes/durable-rules.md):
- durable-rules' default host starts dispatch/timer threads. With several threads
  they crashed the process (segfaults in 4-5 of 6 runs) and even alone the timer
  occasionally ran an action itself. `_QuietHost` overrides `_run`, so no thread is
  ever started.
- The C extension never releases the GIL, so threads cannot add throughput; one
  host per process behind one lock costs about 2 % and had zero errors in the
  stress runs. Scale with processes (gunicorn workers), each with its own host.
- Every evaluation uses a fresh state id and deletes it in `finally`: reusing a sid
  leaks facts between evaluations, and more than 1,024 live sids raise MemoryError.
- `register_rulesets` mutates its argument (pops `run`), so definitions are deep-copied.
- Actions are not Python callbacks: the adapter drains the engine's queue of matched
  rules itself (see `_run`), so no action can fail and have its exception swallowed
  into the state. A fact no rule handles is an engine error: silence is never read
  as a decision.
- Equality is loose in the engine (`1 == True == "1"`), so facts are typed by
  pydantic and the rule validator before they get here.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import durable.engine as durable_engine
import durable_rules_engine

from engine.errors import EngineError

Fired = list[tuple[str, str]]
_NOT_HANDLED, _OBSERVED = 1, 2  # result codes of durable_rules_engine.assert_facts


class _QuietHost(durable_engine.Host):
    """A host that starts no background threads; it only compiles and holds rulesets."""

    def _run(self) -> None:  # the default starts the dispatch and timer threads
        pass

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        def unused(c: Any) -> None:  # actions are read from the engine's queue, never called
            raise EngineError(f"action {action_name} was dispatched by durable-rules itself")

        return unused


class RuleEngine:
    """Registered rulesets, evaluated one call at a time, with nothing left behind."""

    def __init__(self, rulesets: dict[str, dict[str, Any]]):
        self._host = _QuietHost()
        self._host.register_rulesets(copy.deepcopy(rulesets))
        self._handles = {name: self._host.get_ruleset(name)._handle for name in rulesets}
        self._lock = threading.Lock()
        self._ids = itertools.count()

    def add(self, name: str, body: dict[str, Any]) -> None:
        """Register one more ruleset (a combination of profiles asked for at run time). Its
        C memory is never freed, so callers bound how many they add."""
        with self._lock:
            if name in self._handles:
                return
            self._host.register_rulesets({name: copy.deepcopy(body)})
            self._handles[name] = self._host.get_ruleset(name)._handle

    def fire(self, ruleset: str, facts: list[dict[str, Any]]) -> Fired:
        """Assert `facts` (each with a unique `ref`) and return every (rule id, ref) that fired."""
        handle = self._handles.get(ruleset)
        if handle is None:
            raise EngineError(f"ruleset {ruleset!r} is not registered")
        with self._lock:
            sid = f"s{next(self._ids)}"
            payload = json.dumps([dict(f, sid=sid) for f in facts], ensure_ascii=False, separators=(",", ":"))
            try:
                fired = self._run(handle, payload)
            except EngineError:
                raise
            except Exception as exc:  # the C extension raises bare exceptions
                raise EngineError(f"rule engine failed: {exc!r}") from exc
            finally:
                # the state may not exist when asserting failed
                with contextlib.suppress(Exception):
                    self._host.delete_state(ruleset, sid)
        unmatched = {f["ref"] for f in facts} - {ref for _, ref in fired}
        if unmatched:
            raise EngineError(f"facts matched no rule: {sorted(unmatched)}")
        return fired

    def _run(self, handle: int, payload: str) -> Fired:
        """Assert the facts and drain the queue of matched rules, action by action.

        This is what durable's `Host.assert_facts` does, minus its per-action Python
        machinery (a closure, the state serialised and re-parsed, timers), which cost
        more than half of an evaluation: our actions only record which rule matched.
        The queue is always drained before the state is deleted, even when the call
        fails: a state deleted with actions still queued is where durable's C code
        is least tested.
        """
        code, state = durable_rules_engine.assert_facts(handle, payload)
        messages = _drain(handle, state) if state else []
        if code == _NOT_HANDLED:
            raise EngineError("a fact matched no rule: the rule base is incomplete")
        if code == _OBSERVED:
            raise EngineError("a fact was asserted twice in one evaluation")
        return [_matched(message) for message in messages]


_MATCHED = re.compile(r'^\{"([^"]+)":\s*\{"m":\s*\{"scope":\s*"\w+",\s*"ref":\s*"([^"]+)"')


def _matched(message: str) -> tuple[str, str]:
    """(rule id, fact ref) of one queued action, `{"<rule>": {"m": {...fact...}}}`.

    Read with a pattern rather than a JSON parser: every fact starts with its scope
    and ref (see `api._engine_facts`), and decoding every matched fact cost more than
    a third of the engine call. Anything unexpected is decoded in full."""
    found = _MATCHED.match(message)
    if found and found.group(2).count('"') == 0:
        return found.group(1), found.group(2)
    (rule, matched), *_ = json.loads(message).items()
    return rule, (matched.get("m") or matched)["ref"]


def _drain(handle: int, state: int) -> list[str]:
    """Every queued action of a state, completed one by one, as raw JSON messages."""
    started = durable_rules_engine.start_action_for_state(handle, state)
    message = started[1] if started else None
    messages = []
    while message:
        messages.append(message)
        message = durable_rules_engine.complete_and_start_action(handle, state)
    return messages
