"""Query parameters of the endpoints that read the decision log (SPEC section 13).

They follow `service.params` (whose `check_args` refuses unknown and repeated parameters,
`label` and `policy` excepted): a bad value is a 422 naming the parameter.
"""

from __future__ import annotations

import base64
import binascii
import re

from flask import request

from engine.api import Engine
from engine.vendors import VENDOR_ID
from service import lookup, params
from service.decision_log import normalise_time, until_time
from service.errors import invalid_field

DECISIONS = ("allow", "conditions", "deny")
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_LABELS = 20  # a flow carries at most 20 labels, so more filters can never all match
LOG_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
CURSOR_VERSION = "1"


def text(name: str, max_length: int = 200) -> str | None:
    """A plain string filter: non-empty, bounded, without control characters (which no name,
    reference or id holds, and which PostgreSQL refuses in text)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not 1 <= len(raw) <= max_length:
        raise invalid_field(name, f"{name} is 1 to {max_length} characters", f"give a {name} or leave it out")
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise invalid_field(name, f"{name} contains a control character", "send the value as it was logged")
    return raw


def vendor() -> str | None:
    raw = text("vendor", 63)
    if raw is not None and not re.match(VENDOR_ID, raw):
        raise invalid_field("vendor", f"vendor {raw!r} is not a vendor id", "see GET /v1/vendors")
    return raw


def decision() -> str | None:
    raw = request.args.get("decision")
    if raw is not None and raw not in DECISIONS:
        raise invalid_field(
            "decision", f"decision {raw!r} is not a decision", "one of allow, conditions, deny"
        )
    return raw


def labels() -> tuple[tuple[str, str], ...]:
    """`label=key:value`, repeatable; the key ends at the first colon (keys as a flow sends them:
    1 to 64 characters; values up to 200, possibly empty)."""
    values = request.args.getlist("label")
    if len(values) > MAX_LABELS:
        raise invalid_field(
            "label", f"{len(values)} labels exceed {MAX_LABELS}", "a flow has at most 20 labels"
        )
    out = []
    for raw in values:
        key, colon, value = raw.partition(":")
        if not colon or not 1 <= len(key) <= 64 or len(value) > 200:
            raise invalid_field("label", f"label {raw!r} is not key:value", "e.g. label=team:procurement")
        if any(ord(c) < 32 or ord(c) == 127 for c in raw):
            raise invalid_field(
                "label", "label contains a control character", "send the label as it was sent"
            )
        out.append((key, value))
    return tuple(dict.fromkeys(out))


def policy(engine: Engine) -> str | None:
    """A policy profile this service knows (a typo is a 422, not an empty answer), as its id;
    absent: every policy."""
    given = request.args.getlist("policy")
    if not given:
        return None
    try:
        return lookup.policy(engine, given)
    except lookup.Unknown as exc:
        raise params.invalid(exc) from None


def limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid_field("limit", f"limit {raw!r} is not a number from 1 to {MAX_LIMIT}", "e.g. limit=100")
    return int(raw)


def log_time(name: str, end_of_day: bool = False) -> str | None:
    """An ISO 8601 date or time (naive means UTC) as log time text. `end_of_day`: a date alone
    means its last microsecond, so that `until=2026-01-31` includes the 31st."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return until_time(raw) if end_of_day else normalise_time(raw)
    except (ValueError, OverflowError):
        raise invalid_field(
            name,
            f"{name} {raw!r} is not a date or time",
            "use ISO 8601, e.g. 2026-11-22 or 2026-11-22T10:00Z",
        ) from None


def cursor() -> tuple[str, int] | None:
    """The `next_cursor` of the previous page: where it ended (decided_at, seq). Opaque to the
    caller; anything this service did not write is a 422."""
    raw = request.args.get("cursor")
    if raw is None:
        return None
    try:
        version, decided_at, seq = base64.urlsafe_b64decode(raw.encode("ascii") + b"==").decode().split("|")
    except (UnicodeError, binascii.Error, ValueError):
        version, decided_at, seq = "", "", ""
    if (
        version != CURSOR_VERSION
        or not LOG_TIME.match(decided_at)
        or not (seq.isascii() and seq.isdigit())
        or len(seq) > 18
    ):
        raise invalid_field(
            "cursor", "cursor is not a next_cursor of this API", "use next_cursor as answered"
        )
    return decided_at, int(seq)


def next_cursor(decided_at: str, seq: int) -> str:
    """The cursor after an entry: base64url of version, time and seq, without padding."""
    return base64.urlsafe_b64encode(f"{CURSOR_VERSION}|{decided_at}|{seq}".encode()).decode().rstrip("=")


def output_format() -> str:
    raw = request.args.get("format", "json")
    if raw not in ("json", "csv"):
        raise invalid_field("format", f"format {raw!r} is not json or csv", "format=json or format=csv")
    return raw
