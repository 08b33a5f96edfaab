"""The dashboard's sign-in (SPEC section 15): a token once, then a session cookie; CSRF tokens.

A person signs in by pasting a bearer token; the browser then keeps Flask's signed session
cookie, never the token. The cookie names the token and carries a fingerprint of its digest
(an HMAC under the service's session key), so removing or replacing the token in the tokens
file ends every session signed in with it; its scopes are read from the tokens file on each
request, never from the cookie. The cookie is HttpOnly, SameSite=Strict, limited to
`/dashboard`, Secure when the request came over HTTPS (behind a proxy: `DOORGIFTE_PROXY_HOPS`),
and expires after SESSION_HOURS (Flask checks the signed time on every request).

Every form posts a CSRF token that must equal the session's (double submit, compared in
constant time); a cross-site post carries no SameSite=Strict cookie and so fails the check,
and a post whose `Origin` is another site is refused before that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface

from service.tokens import Token, identify

COOKIE = "doorgifte_session"
PATH = "/dashboard"
SESSION_HOURS = 8
CSRF_FIELD = "csrf_token"
#: methods that change nothing: they need no CSRF token
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _Interface(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure exactly when this request came over HTTPS.

    A request without the cookie (every API call: the cookie is limited to `/dashboard`) gets
    a new empty session without building the signing serializer first, which Flask would do
    on every request and which cost more than the rest of opening a session. The answer is the
    same: Flask too gives an empty session when the cookie is missing."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure

    def open_session(self, app: Flask, request: Any) -> Any:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def install(app: Flask, key: bytes) -> None:
    """Session cookies for `app`, signed with `key` (shared by the workers of one server)."""
    app.secret_key = key
    app.session_interface = _Interface()
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_PATH=PATH,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
    )


def _fingerprint(token: Token, key: bytes) -> str:
    return hmac.new(key, token.digest, hashlib.sha256).hexdigest()[:32]


def sign_in(tokens: tuple[Token, ...], presented: str, key: bytes) -> Token | None:
    """Start a session for the token `presented`, or None when it is not a configured token.
    The old session (and its CSRF token) is dropped first: no session fixation."""
    token = identify(tokens, presented.strip())
    if token is None:
        return None
    session.clear()
    session.permanent = True
    session["token"] = token.name
    session["fp"] = _fingerprint(token, key)
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def sign_out() -> None:
    session.clear()


def signed_in(tokens: tuple[Token, ...], key: bytes) -> Token | None:
    """The configured token this session was signed in with, while it is still configured."""
    name, fingerprint = session.get("token"), session.get("fp")
    if not isinstance(name, str) or not isinstance(fingerprint, str):
        return None
    for token in tokens:
        if token.name == name and hmac.compare_digest(_fingerprint(token, key), fingerprint):
            return token
    return None


def csrf_token() -> str:
    """The session's CSRF token for a form (made on first use)."""
    value = session.get(CSRF_FIELD)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = value
    return value


def csrf_problem() -> str | None:
    """Why this unsafe request fails the CSRF check, or None when it passes."""
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin):
        return f"the form was posted from another site ({origin})"
    expected, given = session.get(CSRF_FIELD), request.form.get(CSRF_FIELD)
    if not isinstance(expected, str) or not given:
        return "the form carries no CSRF token of this session (sign in again, or reload the page)"
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return "the form's CSRF token is not this session's (reload the page)"
    return None


def _same_origin(origin: str) -> bool:
    """The form's page came from this host. The scheme is not compared: behind a TLS proxy the
    service may see http while the browser sent https, and another site is another host."""
    parts: Any = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc.lower() == request.host.lower()
