"""Structured logs: one JSON object per line on stderr.

A log line is for machines first (a log shipper parses it) and people second, so
every line has the same top-level keys (`ts`, `level`, `logger`, `msg`) and the
fields a caller passes as `extra={"fields": {...}}`; a traceback goes into `exc`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

#: one encoder for every line (json.dumps with options builds a new one per call)
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonFormatter(logging.Formatter):
    """`ts` is ISO 8601 UTC with milliseconds (`2026-01-02T03:04:05.678+00:00`); the text up to
    the second is made once per second, not once per line."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._prefix = ""

    def _timestamp(self, created: float) -> str:
        second = int(created)
        micro = round((created - second) * 1e6)  # as datetime rounds a timestamp
        if micro >= 1_000_000:  # rounded up into the next second
            return dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds")
        if second != self._second:  # two threads racing here only make the same text twice
            self._prefix = dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._prefix}.{micro // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return _encode(line)


def configure(level: int | str = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record of this process to `stream` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # what a record would otherwise collect on every call and no JSON line shows: the caller's
    # file and line (a walk up the stack), the thread's and the process's names
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    return handler
