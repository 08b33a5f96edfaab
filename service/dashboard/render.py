"""What every dashboard page shares: the blueprint, the page language, rendering, headers.

Pages are rendered on the server from `service/templates/dashboard/`; the only other file a
page loads is the stylesheet of this package (CSP `default-src 'none'`, nothing from other
sites, no script), so the dashboard works offline and a page cannot be framed or made to
post elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, g, render_template, request, send_from_directory, url_for

from engine.errors import Problem
from service import sessions
from service.access import OPEN, principal_name, requires
from service.dashboard.text import LANGUAGES, Words
from service.errors import ProblemError
from service.lookup import today_utc
from service.state import current

blueprint = Blueprint("dashboard", __name__, url_prefix="/dashboard")
STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # the pages show the decision log
}


def page_lang() -> str:
    """`?lang=nl|en`, else the browser's preference, else English."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES) or "en"


def link(endpoint: str, **values: Any) -> str:
    """A dashboard URL in the page's language."""
    return url_for(endpoint, lang=page_lang(), **values)


def _other_language() -> tuple[str, str]:
    other = "nl" if page_lang() == "en" else "en"
    args = {**request.args.to_dict(), **(request.view_args or {}), "lang": other}
    return other, url_for(request.endpoint or "dashboard.overview", **args)


def render(template: str, title: str, page: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A page of `template` with the layout's context: words, links, CSRF token, principal."""
    lang = page_lang()
    other, other_url = _other_language()
    html = render_template(
        f"dashboard/{template}",
        lang=lang,
        t=Words(lang),
        title=title,
        page=page,
        link=link,
        other_lang=other,
        other_lang_url=other_url,
        csrf_token=sessions.csrf_token(),
        csrf_field=sessions.CSRF_FIELD,
        principal=principal_name(),
        access_control=current().config.access_control,
        today=today_utc(),
        **context,
    )
    return html, status


@blueprint.after_request
def _headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@blueprint.errorhandler(ProblemError)
def _problem_page(exc: ProblemError) -> tuple[str, int, dict[str, str]]:
    """A refused or failed dashboard request as a page (the API answers problem+json instead)."""
    g.error_code = exc.code
    problems: list[Problem] = list(exc.problems)
    words = Words(page_lang())
    html, status = render(
        "error.html", words.error_title, "error", exc.status, detail=exc.detail, problems=problems
    )
    return html, status, exc.headers


@blueprint.get("/static/<path:name>")
@requires(OPEN, session=True)
def static(name: str) -> Response:
    """The stylesheet: served by the service itself, never from a CDN."""
    return send_from_directory(STATIC, name, max_age=3600)
