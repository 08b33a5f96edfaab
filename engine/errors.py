"""Every error doorgifte reports, in one table, and the exceptions that carry them.

A problem is `{"loc", "msg", "hint"}`: `loc` names the field the way the request
spells it (`recipient.locations[0]`), `msg` is one lower-case sentence naming the
field and value, `hint` says what would be accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: error code -> (HTTP status, title). The service and the CLI map errors through it.
ERRORS: dict[str, tuple[int, str]] = {
    "malformed_json": (400, "Malformed JSON"),
    "bad_request": (400, "Bad request"),
    "unauthorized": (401, "A valid bearer token is required"),
    "forbidden": (403, "The token lacks the scope this request needs"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "body_too_large": (413, "Request body too large"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "invalid_request": (422, "The request breaks the contract"),
    "chain_too_large": (422, "The processing chain is too large"),
    "internal_error": (500, "Internal error"),
    "decision_log_unavailable": (503, "Decision log unavailable"),
    "evaluation_timeout": (503, "Evaluation took too long"),
    "not_ready": (503, "Not ready"),
}


@dataclass(frozen=True)
class Problem:
    loc: str
    msg: str
    hint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"loc": self.loc, "msg": self.msg}
        if self.hint:
            out["hint"] = self.hint
        return out


@dataclass
class RequestInvalid(Exception):
    """The request is well-formed JSON but breaks the contract (422)."""

    problems: list[Problem]
    code: str = "invalid_request"
    detail: str = field(default="")

    def __post_init__(self) -> None:
        if not self.detail:
            count = len(self.problems)
            self.detail = f"{count} problem{'s' if count != 1 else ''} in the request"
        super().__init__(self.detail)

    @property
    def status(self) -> int:
        return ERRORS[self.code][0]


class EngineError(RuntimeError):
    """The rule engine could not decide; the caller gets a 500, never an allow."""


@dataclass
class LoadProblem:
    """A policy or data file that cannot be used, with where it went wrong."""

    file: str
    line: int | None
    msg: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.msg}"


class LoadError(Exception):
    """Policies or reference data are invalid; the service refuses to start."""

    def __init__(self, problems: list[LoadProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def did_you_mean(value: str, options: list[str] | tuple[str, ...], n: int = 3) -> str | None:
    """A hint naming the closest known ids, or None when nothing is close."""
    import difflib

    close = difflib.get_close_matches(value, list(options), n=n, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        close = [lowered[c] for c in difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.6)]
    return "did you mean " + " or ".join(repr(c) for c in close) + "?" if close else None
