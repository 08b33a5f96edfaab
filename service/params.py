"""Query parameters of the reference endpoints: `as_of`, `policy`, and nothing unknown.

They follow the flow request's rules (`service.lookup`): `as_of` is a date from
2018-05-25, defaulting to today in UTC, and `policy` a loaded profile id,
defaulting to `gdpr`; a bad value is a 422. An unknown query parameter is refused
rather than ignored, so a typo such as `asof=` cannot silently answer for today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import request

from engine.api import Engine
from engine.errors import Problem, did_you_mean
from service import lookup
from service.errors import ProblemError
from service.lookup import today_utc

#: query parameters that may be repeated, each value counting (`?policy=a&policy=b`; every
#: `label=key:value` of a log query must match)
REPEATABLE = ("policy", "label")


def check_args(allowed: Iterable[str]) -> None:
    """Refuse unknown parameters, and a repeated one that is not a list: never read only the first."""
    known = list(allowed)
    problems = []
    for name in request.args:
        if name not in known:
            hint = did_you_mean(name, known) or (
                f"known parameters: {', '.join(known)}" if known else "this path takes no query parameters"
            )
            problems.append(Problem(name, f"unknown query parameter {name!r}", hint))
        elif name not in REPEATABLE and len(request.args.getlist(name)) > 1:
            msg = f"query parameter {name!r} is given more than once"
            problems.append(Problem(name, msg, "give it once"))
    if problems:
        raise ProblemError("invalid_request", f"{len(problems)} bad query parameter(s)", problems)


def as_of() -> dt.date:
    raw = request.args.get("as_of")
    if raw is None:
        return today_utc()
    try:
        return lookup.as_of(raw)
    except lookup.Unknown as exc:
        raise invalid(exc) from None


def policy(engine: Engine) -> str:
    """`?policy=a`, `?policy=a,b` or `?policy=a&policy=b`: every value counts."""
    try:
        return lookup.policy(engine, request.args.getlist("policy") or [lookup.DEFAULT_POLICY])
    except lookup.Unknown as exc:
        raise invalid(exc) from None


def regime(engine: Engine) -> str:
    """`?regime=uk_gdpr`: judge a place for an exporter under that regime (default `gdpr`)."""
    try:
        return lookup.regime(engine, request.args.get("regime", lookup.catalogue.GDPR))
    except lookup.Unknown as exc:
        raise invalid(exc) from None


def invalid(exc: lookup.Unknown) -> ProblemError:
    """A bad query value: the request breaks the contract (422)."""
    return ProblemError("invalid_request", exc.problem.msg, [exc.problem])


def not_found(exc: lookup.Unknown) -> ProblemError:
    """A path naming something that does not exist (404)."""
    return ProblemError("not_found", exc.problem.msg, [exc.problem])
