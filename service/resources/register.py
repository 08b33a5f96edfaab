"""`/v1/register`: the transfer register (SPEC section 13) from the latest logged decisions.

The log picks the sources (the latest decision per vendor, or per reference without a vendor,
decided on or before `as_of`); `service.register` turns their stored responses into rows.

A logged decision never changes, so neither do its rows: each app keeps the rows (and their
JSON and CSV text) of the last REGISTER_CACHE decisions it built, and reads and parses only
the responses of the others. A register of a thousand vendors then costs two index seeks
per vendor and joining texts, not a thousand responses parsed again on every call.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response

from service import log_params, params, register
from service.access import requires
from service.decision_log import DecisionLog, LogEntry, LogUnavailable, day_end
from service.openapi import describe
from service.schemas import TransferRegister
from service.state import current

blueprint = Blueprint("register", __name__)
QUERY = ("policy_filter", "register_as_of", "format")
CSV = "text/csv"
#: the horizon date of a logged decision that was answered without one (Decider.horizon_of)
HorizonOf = Callable[[LogEntry], dt.date | None]
REGISTER_CACHE = 20_000  # decisions whose rows an app keeps (a few MB)


@blueprint.get("/v1/register")
@requires("read")
@describe(
    "The transfer register",
    {200: (TransferRegister, CSV)},
    query=QUERY,
    errors=("invalid_request", "decision_log_unavailable"),
)
def transfer_register() -> Response:
    """One row per transfer (party and location) of the latest logged decision per vendor, or
    per reference for decisions without a vendor, decided on or before `as_of` (decisions with
    neither are left out): the record of transfers of GDPR Art. 30(1)(e) and 30(2)(c), with the
    transfer tool, the impact assessment, open actions and the horizon date. `format=csv` gives
    the same rows as a download (cells that a spreadsheet would read as a formula start with `'`)."""
    service = current()
    params.check_args(("policy", "as_of", "format"))
    policy = log_params.policy(service.engine)
    as_of = params.as_of()
    output = log_params.output_format()
    cache = service.cache.setdefault("register_rows", RowCache(REGISTER_CACHE))
    try:
        built = cache.built(
            service.log, service.log.latest(day_end(as_of), policy), service.decider.horizon_of
        )
    except LogUnavailable as exc:
        raise service.decider.unavailable(exc) from None
    if output == "csv":
        response = Response(register.CSV_HEADER + "".join(b.csv for b in built), mimetype=CSV)
        response.headers["Content-Disposition"] = f"attachment; filename=register-{as_of.isoformat()}.csv"
        return response
    head = json.dumps({"as_of": as_of.isoformat(), "policy": policy})[:-1]
    rows = ",".join(b.json for b in built if b.json)
    return Response(f'{head}, "rows": [{rows}]}}', mimetype="application/json")


def rows(log: DecisionLog, until: dt.date, policy: str | None = None) -> list[dict[str, Any]]:
    """The register's rows as data (for pages that show the register), through the app's cache."""
    service = current()
    cache = service.cache.setdefault("register_rows", RowCache(REGISTER_CACHE))
    sources = log.latest(day_end(until), policy)
    return [row for b in cache.built(log, sources, service.decider.horizon_of) for row in b.rows]


@dataclass(frozen=True)
class Built:
    """One logged decision's register rows, and the same rows as JSON (comma-separated
    objects) and as CSV records."""

    rows: list[dict[str, Any]]
    json: str
    csv: str

    @classmethod
    def of(cls, made: list[dict[str, Any]]) -> Built:
        text = ",".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in made)
        return cls(made, text, register.csv_lines(made))


def _with_horizon(log: DecisionLog, source: dict[str, Any], horizon_of: HorizonOf | None) -> dict[str, Any]:
    """A source with its horizon date: logged with the decision (asked for, or a vendor
    decision), else found now by deciding its request again (once: the rows are cached)."""
    if source.get("changes_on") is not None or horizon_of is None:
        return source
    entry = log.get(source["decision_id"])
    if entry is None:
        return source
    day = horizon_of(entry)
    return {**source, "changes_on": day.isoformat() if day else None}


class RowCache:
    """Built rows by decision id, least recently used out first; safe across threads."""

    def __init__(self, size: int):
        self.size = size
        self._built: OrderedDict[str, Built] = OrderedDict()
        self._lock = threading.Lock()

    def built(
        self, log: DecisionLog, sources: list[dict[str, Any]], horizon_of: HorizonOf | None = None
    ) -> list[Built]:
        """The rows of these logged decisions, in `register.ordered` order; `horizon_of` finds the
        horizon date of a decision logged without one."""
        sources = register.ordered(sources)
        with self._lock:
            known = {
                s["decision_id"]: hit for s in sources if (hit := self._hit(s["decision_id"])) is not None
            }
        missing = [_with_horizon(log, s, horizon_of) for s in sources if s["decision_id"] not in known]
        texts = log.responses([s["seq"] for s in missing])
        fresh = {
            s["decision_id"]: Built.of(register.decision_rows({**s, "response": texts[s["seq"]]}))
            for s in missing
        }
        with self._lock:
            self._built.update(fresh)
            while len(self._built) > self.size:
                self._built.popitem(last=False)
        known.update(fresh)
        return [known[s["decision_id"]] for s in sources]

    def _hit(self, decision_id: str) -> Built | None:
        found = self._built.get(decision_id)
        if found is not None:
            self._built.move_to_end(decision_id)
        return found
