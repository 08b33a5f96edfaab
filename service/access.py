"""Access control (SPEC section 15): who may call which endpoint, checked in one place.

Each view declares what it needs next to its route with `@requires(...)`: a scope
(`decide`, `read`, `vendors`, `replay`; `admin` implies each), `ANY_TOKEN` (reference
data and documentation: any valid token) or `OPEN` (health, readiness and metrics).
One `before_request` hook checks the declaration; a view that declares nothing needs
`admin` (fail closed), and a test walks the URL map so that no route is left without
a declaration.

Without a tokens file (`DOORGIFTE_TOKENS_FILE`) every endpoint is open and no
principal is recorded. With one, a request without a valid `Authorization: Bearer`
token is 401 and one whose token lacks the scope is 403, both problem+json. A request
that matches no route (404, 405) needs a valid token too: routing is not revealed to
an anonymous caller (fail closed); an authenticated caller gets the 404 or 405.

The token is never logged nor echoed; its name is kept in `g.principal` for the
decision log, the vendor revisions and the request log.

Dashboard pages declare `@requires(scope, session=True)`: there the sign-in cookie of
`service.sessions` counts as well as a bearer header, a page asked for without either
redirects to the sign-in form, and every unsafe request must carry the session's CSRF
token, with or without access control (a form on another site must never start a replay
on a loopback service either).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, g, redirect, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from engine.errors import Problem
from service import sessions
from service.errors import ProblemError
from service.state import current
from service.tokens import ADMIN, SCOPES, Token, identify

F = TypeVar("F", bound=Callable[..., Any])
#: no token needed, even with a tokens file
OPEN = "open"
#: any valid token, whatever its scopes
ANY_TOKEN = "any-token"
ATTRIBUTE = "access"
#: set on dashboard views: the session cookie counts as a credential there
SESSION_ATTRIBUTE = "access_session"
SIGN_IN = "dashboard.sign_in"
AUTH_HINT = "send Authorization: Bearer <token>"


def requires(need: str, session: bool = False) -> Callable[[F], F]:
    """Declare what a view needs: a scope, `ANY_TOKEN` or `OPEN`; `session`: a dashboard page,
    where the sign-in cookie counts and unsafe methods need a CSRF token."""
    if need not in (*SCOPES, OPEN, ANY_TOKEN):
        raise ValueError(f"unknown access requirement {need!r}")

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, need)
        setattr(view, SESSION_ATTRIBUTE, session)
        return view

    return mark


def requirement(view: Callable[..., Any] | None) -> str | None:
    """What a view declared, or None when it declared nothing."""
    need = getattr(view, ATTRIBUTE, None)
    return need if isinstance(need, str) else None


def principal_name() -> str | None:
    """The name of the token the current request came with (None without access control)."""
    principal = g.get("principal")
    return principal.name if isinstance(principal, Token) else None


def register(app: Flask) -> None:
    """Check every request against its view's declaration (after the request id is set)."""

    @app.before_request
    def _authorise() -> Response | None:
        config = current().config
        view = app.view_functions.get(request.endpoint or "") if request.url_rule is not None else None
        by_session = bool(getattr(view, SESSION_ATTRIBUTE, False))
        if by_session and request.method not in sessions.SAFE_METHODS:
            _check_csrf()
        if not config.access_control:
            return None
        need = requirement(view) if view is not None else _unmatched(app)
        if view is not None and need is None:
            need = ADMIN  # undeclared: fail closed
        if need == OPEN:
            return None
        if by_session and "Authorization" not in request.headers:
            signed_in = sessions.signed_in(config.tokens, config.session_key)
            if signed_in is None:
                return _sign_in_first()
            token = signed_in
        else:
            token = _presented_token(config.tokens)
        g.principal = token
        if need == ANY_TOKEN or token.allows(str(need)):
            return None
        msg = f"the token {token.name!r} lacks the scope {need}"
        raise ProblemError(
            "forbidden",
            msg,
            [Problem("header Authorization", msg, f"use a token with the scope {need} or admin")],
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{need}"'},
        )


def _unmatched(app: Flask) -> str:
    """What a request no route answers needs: a token (404, 405 are not shown to anyone), unless
    only the method is wrong on a path whose every route is open (`TRACE /healthz`: its 405
    tells nothing that `GET /healthz` does not)."""
    wrong_method = request.routing_exception
    if isinstance(wrong_method, MethodNotAllowed) and wrong_method.valid_methods:
        adapter = app.url_map.bind_to_environ(request.environ)
        needs = set()
        for method in wrong_method.valid_methods:
            try:
                endpoint, _ = adapter.match(request.path, method=method)
            except HTTPException:  # a redirect or another routing answer: decide nothing here
                return ANY_TOKEN
            needs.add(requirement(app.view_functions.get(str(endpoint))))
        if needs == {OPEN}:
            return OPEN
    return ANY_TOKEN


def _check_csrf() -> None:
    why = sessions.csrf_problem()
    if why is not None:
        raise ProblemError(
            "forbidden", why, [Problem(f"form {sessions.CSRF_FIELD}", why, "post the form again")]
        )


def _sign_in_first() -> Response:
    """A page asked for without a session: to the sign-in form, and back afterwards. A form
    posted without one is refused (its CSRF token was already checked against no session)."""
    if request.method not in sessions.SAFE_METHODS:
        raise _unauthorised("sign in first", "Bearer")
    return redirect(url_for(SIGN_IN, next=request.full_path.rstrip("?")), 303)  # type: ignore[return-value]


def _presented_token(tokens: tuple[Token, ...]) -> Token:
    """The configured token of this request's `Authorization: Bearer` header; else a 401."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise _unauthorised("no bearer token was sent", "Bearer")
    token = identify(tokens, value)
    if token is None:
        raise _unauthorised("the bearer token is not valid", 'Bearer error="invalid_token"')
    return token


def _unauthorised(msg: str, challenge: str) -> ProblemError:
    return ProblemError(
        "unauthorized",
        msg,
        [Problem("header Authorization", msg, AUTH_HINT)],
        {"WWW-Authenticate": challenge},
    )
