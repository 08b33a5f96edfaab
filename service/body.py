"""Read a JSON request body safely: size first, then media type, then syntax.

The size is checked before a byte is parsed: a declared `Content-Length` over the
limit is refused without parsing, and a body without one (chunked) is read at most
one byte past the limit. Either way the rest of an oversized body is read and
dropped (up to `DRAIN_LIMIT`) before the 413 is answered: a server that answers and
closes with unread bytes in its socket makes the kernel reset the connection, and
the client sees a broken pipe instead of the problem. Only then is the media type checked and the JSON parsed.
Parsing refuses what Python's `json` would otherwise let through and the contract
does not know: `NaN`/`Infinity`, invalid UTF-8, and nesting deep enough to exhaust
the interpreter's stack.
"""

from __future__ import annotations

import contextlib
import encodings.utf_8_sig  # noqa: F401 - loaded at start: a codec found lazily on the first request fails once privileges are dropped
import json
import sys
from typing import IO, Any

from flask import Request
from werkzeug.exceptions import ClientDisconnected

from engine.errors import Problem
from service.errors import ProblemError, too_large

JSON_MEDIA_TYPE = "application/json"
CHUNK = 65536
#: how much of an oversized body is read and dropped so that its 413 reaches the client
DRAIN_LIMIT = 64 * 1024 * 1024


def read_json(request: Request, max_body: int) -> Any:
    """The parsed JSON body of `request`, or a ProblemError (413, 415 or 400)."""
    declared = request.content_length
    if declared is not None and declared > max_body:
        drain(request.stream)
        raise too_large(max_body)
    check_media_type(request.headers.get("Content-Type"))
    raw = read_at_most(request.stream, max_body + 1)
    if len(raw) > max_body:
        drain(request.stream)
        raise too_large(max_body)
    return parse(raw)


def drain(stream: IO[bytes], limit: int = DRAIN_LIMIT) -> None:
    """Read and drop what is left of a body, up to `limit` bytes; a client that is gone
    (reading fails) has nothing left to drain."""
    left = limit
    with contextlib.suppress(OSError, ClientDisconnected):
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)


def read_at_most(stream: IO[bytes], limit: int) -> bytes:
    """Up to `limit` bytes; a read may return less than asked (chunked input), so loop to EOF."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = stream.read(min(CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def check_media_type(content_type: str | None) -> None:
    """Accept `application/json`, with an optional UTF-8 charset and nothing else."""
    if not content_type:
        raise _unsupported("the request has no Content-Type")
    media, _, params = content_type.partition(";")
    if media.strip().lower() != JSON_MEDIA_TYPE:
        raise _unsupported(f"Content-Type {media.strip()!r} is not {JSON_MEDIA_TYPE}")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise _unsupported(f"charset {value.strip()!r} is not utf-8")


def parse(raw: bytes) -> Any:
    if not raw.strip():
        raise _malformed("the request body is empty", "send a JSON object")
    try:
        text = raw.decode("utf-8-sig")  # RFC 8259 lets a parser ignore a byte order mark
    except UnicodeDecodeError as exc:
        raise _malformed(
            f"the request body is not UTF-8 (byte {exc.start})", "encode the body as UTF-8"
        ) from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise _malformed(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", "check the JSON syntax"
        ) from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # Python's own limit, not worth quoting
            digits = sys.get_int_max_str_digits()
            raise _malformed(
                f"a number in the body has more than {digits} digits", "use only JSON numbers"
            ) from None
        raise _malformed(str(exc), "use only JSON numbers") from None
    except RecursionError:
        raise _malformed("the JSON is nested too deeply", "flatten the document") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unsupported(detail: str) -> ProblemError:
    hint = "send Content-Type: application/json (charset utf-8)"
    return ProblemError("unsupported_media_type", detail, [Problem("(headers).Content-Type", detail, hint)])


def _malformed(detail: str, hint: str) -> ProblemError:
    return ProblemError("malformed_json", detail, [Problem("(body)", detail, hint)])
