"""Signing in to the dashboard with a token, and out again (SPEC section 15)."""

from __future__ import annotations

from flask import Response, redirect, request

from service import sessions
from service.access import OPEN, requires
from service.dashboard.render import blueprint, link, page_lang, render
from service.dashboard.text import Words
from service.state import current


def _next_page() -> str:
    """Where to go after signing in: a dashboard path of this site only (no open redirect)."""
    target = request.values.get("next", "")
    if target.startswith("/dashboard") and not target.startswith("//") and "\\" not in target:
        return target
    return link("dashboard.overview")


@blueprint.get("/sign-in")
@requires(OPEN, session=True)
def sign_in() -> tuple[str, int] | Response:
    if not current().config.access_control:  # nothing to sign in to: the service is open
        return redirect(_next_page(), 303)  # type: ignore[return-value]
    return render("sign_in.html", Words(page_lang()).sign_in, "sign_in", next_page=_next_page(), failed=False)


@blueprint.post("/sign-in")
@requires(OPEN, session=True)
def sign_in_post() -> tuple[str, int] | Response:
    """The CSRF token was checked before this runs; a wrong token re-shows the form (401)."""
    config = current().config
    presented = request.form.get("token", "")
    if sessions.sign_in(config.tokens, presented, config.session_key) is None:
        words = Words(page_lang())
        return render("sign_in.html", words.sign_in, "sign_in", 401, next_page=_next_page(), failed=True)
    return redirect(_next_page(), 303)  # type: ignore[return-value]


@blueprint.post("/sign-out")
@requires(OPEN, session=True)
def sign_out() -> Response:
    sessions.sign_out()
    return redirect(link("dashboard.sign_in"), 303)  # type: ignore[return-value]
