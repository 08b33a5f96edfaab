"""RFC 9457 problem details for every error the service answers.

Every error, from a malformed body to an unknown path or an internal failure,
leaves as `application/problem+json` with `type`, `title`, `status`, `detail`,
the stable `code` and `errors: [{loc, msg, hint}]`, so a client needs one error
parser. Codes, statuses and titles come from the engine's one table
(`engine.errors.ERRORS`). A 500 never carries a traceback or internal text:
it carries an `error_id` that is logged with the traceback.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from engine.errors import ERRORS, Problem, RequestInvalid
from service import dutch

PROBLEM_BASE = "https://doorgifte.nl/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("doorgifte.errors")

#: werkzeug's HTTP errors (routing, methods) mapped to our codes
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


class ProblemError(Exception):
    """An error the service answers as a problem document."""

    def __init__(
        self,
        code: str,
        detail: str,
        problems: list[Problem] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        if code not in ERRORS:
            raise KeyError(f"unknown error code {code!r}")
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.problems = problems or []
        self.headers = headers or {}
        self.extra = extra or {}

    @property
    def status(self) -> int:
        return ERRORS[self.code][0]

    @classmethod
    def from_invalid(cls, exc: RequestInvalid) -> ProblemError:
        return cls(exc.code, exc.detail, list(exc.problems))

    def body(self) -> dict[str, Any]:
        return problem_body(self.code, self.detail, self.problems, **self.extra)


def problem_body(
    code: str, detail: str, problems: list[Problem] | None = None, **extra: Any
) -> dict[str, Any]:
    """The problem document of SPEC section 7 (also used for one flow of a batch)."""
    status, title = ERRORS[code]
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [p.as_dict() for p in problems or []],
    }
    body.update(extra)
    return body


def answer_language(payload: Any = None) -> str:
    """`nl` when the flow asks for it (`"lang": "nl"`) or the caller prefers Dutch
    (`Accept-Language`), else `en`."""
    if isinstance(payload, dict) and payload.get("lang") in ("en", "nl"):
        return str(payload["lang"])
    if g.get("lang"):
        return str(g.lang)
    return "nl" if request.accept_languages.best_match(["en", "nl"]) == "nl" else "en"


def in_language(body: dict[str, Any], lang: str) -> dict[str, Any]:
    return dutch.problem(body) if lang == "nl" else body


def problem_response(problem: ProblemError) -> Response:
    body = in_language(problem.body(), answer_language())
    response = Response(problem_json(body), status=body["status"], mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in problem.headers.items():
        response.headers[name] = value
    g.error_code = problem.code
    if "error_id" in problem.extra:
        g.error_id = problem.extra["error_id"]
    return response


def problem_json(body: dict[str, Any]) -> str:
    """The problem as JSON text, readable (not ASCII-escaped) where it can be encoded as UTF-8.

    A problem may echo a string of the request: JSON lets a request spell a lone surrogate
    (`"\\ud800"`), which Python decodes but UTF-8 cannot encode; then the text is escaped to
    ASCII instead, so the answer is still the problem and not an encoding error.
    """
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body)
    return text


def invalid_field(loc: str, msg: str, hint: str) -> ProblemError:
    """A 422 about one field of the request."""
    return ProblemError("invalid_request", msg, [Problem(loc, msg, hint)])


def internal_error(exc: BaseException, what: str) -> ProblemError:
    """Log `exc` with a fresh error id; the 500 problem names only that id, never the cause."""
    error_id = str(uuid.uuid4())
    log.error(what, exc_info=exc, extra={"fields": {"error_id": error_id, "error_type": type(exc).__name__}})
    detail = f"the service could not answer; quote error id {error_id} to the operator"
    return ProblemError(
        "internal_error", detail, extra={"error_id": error_id, "instance": f"urn:uuid:{error_id}"}
    )


def too_large(limit: int) -> ProblemError:
    detail = f"the request body is larger than the limit of {limit} bytes"
    return ProblemError(
        "body_too_large", detail, [Problem("(body)", detail, "split the request into smaller ones")]
    )


def register(app: Flask) -> None:
    """Turn every error raised while handling a request into a problem answer."""

    @app.errorhandler(ProblemError)
    def _problem(exc: ProblemError) -> Response:
        return problem_response(exc)

    @app.errorhandler(RequestInvalid)
    def _invalid(exc: RequestInvalid) -> Response:
        return problem_response(ProblemError.from_invalid(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return _http_problem(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        return problem_response(internal_error(exc, "unhandled error while answering a request"))


def _http_problem(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = HTTP_CODES.get(status)
    if code is None:  # an HTTP error we do not expect to raise ourselves: keep its status
        body = {
            "type": "about:blank",
            "title": exc.name,
            "status": status,
            "detail": exc.description or exc.name,
            "errors": [],
        }
        return Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    if status == 405:
        allowed = sorted(getattr(exc, "valid_methods", None) or [])
        useful = [m for m in allowed if m not in ("HEAD", "OPTIONS")]
        detail = f"this path answers {', '.join(useful)}"
        problem = Problem("(method)", detail, "use " + " or ".join(useful))
        return problem_response(ProblemError(code, detail, [problem], {"Allow": ", ".join(allowed)}))
    if status == 413:  # werkzeug's own guard (MAX_CONTENT_LENGTH) on a body without Content-Length
        # the app sets it one byte above DOORGIFTE_MAX_BODY (service.app); no import of the app's state
        return problem_response(too_large(int(current_app.config["MAX_CONTENT_LENGTH"]) - 1))
    if status == 404:
        problem = Problem("(path)", "no such path", "see GET /openapi.json or /docs")
        return problem_response(ProblemError(code, "no such path", [problem]))
    detail = ERRORS[code][1].lower()
    return problem_response(ProblemError(code, detail, [Problem("(body)", detail, None)]))
