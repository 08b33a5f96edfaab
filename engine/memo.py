"""A bounded, thread-safe table of values computed once per process (see firing.py and
assemble.py for what is remembered and why each key is complete)."""

from __future__ import annotations

import json
import threading
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """A dict that forgets its oldest entries beyond `size`: first in, first out, since
    keeping the order of use costs every hit a move, and a miss only costs one computation."""

    def __init__(self, size: int):
        self.size = size
        self._values: dict[K, V] = {}
        self._lock = threading.Lock()
        self.misses = 0  # computations, for the tests and the benchmark

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self.misses += 1
            if self.size <= 0:  # remembers nothing: every lookup computes afresh
                return value
            while len(self._values) >= self.size:
                self._values.pop(next(iter(self._values)), None)
            self._values[key] = value
        return value

    def __len__(self) -> int:
        return len(self._values)


def typed(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A key of `values` that tells `1`, `1.0`, `True` and `"1"` apart (Python's `==` does not,
    for the first three). Lists and dicts, which are not hashable, are keyed by their JSON."""
    try:
        hash(values)
    except TypeError:
        return (json.dumps(values, sort_keys=True, default=str),)
    return (values, tuple(map(type, values)))
