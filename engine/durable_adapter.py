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
- An exception inside an action is swallowed into the returned state; it is checked
  and raised. A message no rule handles raises; the catch-all rule prevents that, and
  a fact the catch-all did not see is reported as an engine error.
- Equality is loose in the engine (`1 == True == "1"`), so facts are typed by
  pydantic and the rule validator before they get here.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import threading
from collections.abc import Callable
from typing import Any

import durable.engine as durable_engine

from engine.compiler import SEEN
from engine.errors import EngineError

Fired = list[tuple[str, str]]


class _QuietHost(durable_engine.Host):
    """A host that starts no background threads and binds actions by name."""

    def __init__(self, on_fire: Callable[[str, str], None]):
        self._on_fire = on_fire
        super().__init__()

    def _run(self) -> None:  # the default starts the dispatch and timer threads
        pass

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        on_fire = self._on_fire

        def action(c: Any) -> None:
            on_fire(action_name, c.m["ref"])

        return action


class RuleEngine:
    """Registered rulesets, evaluated one call at a time, with nothing left behind."""

    def __init__(self, rulesets: dict[str, dict[str, Any]]):
        self._fired: Fired = []
        self._host = _QuietHost(self._record)
        self._host.register_rulesets(copy.deepcopy(rulesets))
        self._names = frozenset(rulesets)
        self._lock = threading.Lock()
        self._ids = itertools.count()

    def _record(self, rule: str, ref: str) -> None:
        """Called by every action, inside `fire`, while the lock is held."""
        self._fired.append((rule, ref))

    def fire(self, ruleset: str, facts: list[dict[str, Any]]) -> Fired:
        """Assert `facts` (each with a unique `ref`) and return every (rule id, ref) that fired."""
        if ruleset not in self._names:
            raise EngineError(f"ruleset {ruleset!r} is not registered")
        with self._lock:
            sid = f"s{next(self._ids)}"
            self._fired = []
            try:
                state = self._host.assert_facts(ruleset, [dict(f, sid=sid) for f in facts])
            except durable_engine.MessageNotHandledException as exc:
                raise EngineError(f"no rule handled the facts: {exc}") from None
            except Exception as exc:  # the C extension raises bare exceptions
                raise EngineError(f"rule engine failed: {exc!r}") from exc
            finally:
                # the state may not exist when asserting failed
                with contextlib.suppress(Exception):
                    self._host.delete_state(ruleset, sid)
            fired, self._fired = self._fired, []
        if state and "exception" in state:
            raise EngineError(f"a rule action failed: {state['exception']}")
        seen = {ref for rule, ref in fired if rule == SEEN}
        unseen = {f["ref"] for f in facts} - seen
        if unseen:
            raise EngineError(f"facts never evaluated: {sorted(unseen)}")
        return [(rule, ref) for rule, ref in fired if rule != SEEN]
