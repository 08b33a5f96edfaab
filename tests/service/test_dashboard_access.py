"""The dashboard's sign-in, session cookie and CSRF tokens (SPEC section 15).

Every dashboard route is walked: without a session, with a forged cookie, with a token that
lacks the scope, and every form is posted cross-site and without its CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import access, sessions, tokens
from tests.service.test_access import (
    EXPECTED,
    READER,
    ROOT,
    TOKENS,
    WRITER,
    entries,
    requests_of,
    write_tokens,
)

DASHBOARD = {endpoint: need for endpoint, need in EXPECTED.items() if endpoint.startswith("dashboard.")}


@pytest.fixture
def guarded(make_app: Callable[..., Flask], tmp_path) -> Flask:
    path = write_tokens(tmp_path / "tokens.json", entries())
    return make_app(tokens_file=path, tokens=tokens.load(path))


def csrf_of(client: FlaskClient, path: str = "/dashboard/sign-in") -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def sign_in(client: FlaskClient, token: str, next_page: str = "/dashboard") -> FlaskClient:
    answer = client.post(
        "/dashboard/sign-in", data={"csrf_token": csrf_of(client), "token": token, "next": next_page}
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    return client


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(sessions.COOKIE, path=sessions.PATH)
    return cookie.value if cookie else None


def test_every_dashboard_route_is_a_session_route(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        assert getattr(view, access.SESSION_ATTRIBUTE, False) == rule.endpoint.startswith("dashboard."), rule


def test_a_page_without_a_session_redirects_to_sign_in(guarded):
    client = guarded.test_client()
    answer = client.get("/dashboard/vendors?lang=nl")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/dashboard/sign-in?next=/dashboard/vendors")
    form = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'type="password"' in form and 'name="csrf_token"' in form


def test_signing_in_sets_a_strict_http_only_cookie_and_returns(guarded):
    client = guarded.test_client()
    answer = client.post(
        "/dashboard/sign-in",
        data={"csrf_token": csrf_of(client), "token": READER, "next": "/dashboard/vendors"},
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/dashboard/vendors"
    cookie = answer.headers["Set-Cookie"]
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/dashboard"):
        assert flag in cookie
    assert "Secure" not in cookie  # plain HTTP here
    assert READER not in cookie  # the token is never in the cookie
    html = client.get("/dashboard/vendors").get_data(as_text=True)
    assert "Signed in as reader" in html


def test_the_cookie_is_secure_over_https_and_behind_a_proxy(guarded, make_app, tmp_path):
    client = guarded.test_client()
    token = csrf_of(client)
    answer = client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token, "token": READER},
        base_url="https://localhost",
        headers={"Origin": "https://localhost"},
    )
    assert "Secure" in answer.headers["Set-Cookie"]
    path = write_tokens(tmp_path / "t2.json", entries())
    proxied = make_app(tokens_file=path, tokens=tokens.load(path), proxy_hops=1).test_client()
    https = {"X-Forwarded-Proto": "https"}
    token = csrf_of(proxied)
    answer = proxied.post("/dashboard/sign-in", data={"csrf_token": token, "token": READER}, headers=https)
    assert answer.status_code == 303 and "Secure" in answer.headers["Set-Cookie"]
    assert (
        "Secure" not in guarded.test_client().get("/dashboard/sign-in", headers=https).headers["Set-Cookie"]
    )


def test_a_wrong_token_shows_the_form_again(guarded):
    client = guarded.test_client()
    answer = client.post("/dashboard/sign-in", data={"csrf_token": csrf_of(client), "token": "guess"})
    assert answer.status_code == 401
    assert "This token is not valid." in answer.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/v1/register", "/dashboard\\@x"]
)
def test_sign_in_never_redirects_elsewhere(guarded, target):
    client = guarded.test_client()
    answer = client.post(
        "/dashboard/sign-in", data={"csrf_token": csrf_of(client), "token": READER, "next": target}
    )
    assert answer.headers["Location"] == "/dashboard?lang=en"


def test_signing_in_renews_the_session(guarded):
    """No session fixation: the CSRF token before signing in is not the one after."""
    client = guarded.test_client()
    before = csrf_of(client)
    sign_in(client, READER)
    assert csrf_of(client, "/dashboard") != before


def test_every_dashboard_route_without_a_session(guarded):
    client = guarded.test_client()
    for endpoint, method, path in requests_of(guarded):
        need = DASHBOARD.get(endpoint)
        if need is None or need == access.OPEN:
            continue
        answer = client.open(path, method=method)
        if method == "GET":
            assert answer.status_code == 303 and "/dashboard/sign-in" in answer.headers["Location"], endpoint
        else:
            assert answer.status_code == 403, endpoint  # no session: no CSRF token either


@pytest.mark.parametrize(
    "forge",
    [
        lambda good: "forged",
        lambda good: good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),  # signature broken
    ],
)
def test_a_forged_cookie_is_no_session(guarded, forge):
    client = sign_in(guarded.test_client(), ROOT)
    good = session_cookie(client)
    assert good and client.get("/dashboard").status_code == 200
    other = guarded.test_client()
    other.set_cookie(sessions.COOKIE, forge(good), path=sessions.PATH)
    assert other.get("/dashboard").status_code == 303


def test_a_cookie_signed_with_another_key_is_no_session(guarded, make_app, tmp_path):
    path = write_tokens(tmp_path / "t2.json", entries())
    elsewhere = make_app(tokens_file=path, tokens=tokens.load(path))  # its own random session key
    cookie = session_cookie(sign_in(elsewhere.test_client(), ROOT))
    client = guarded.test_client()
    client.set_cookie(sessions.COOKIE, cookie, path=sessions.PATH)
    assert client.get("/dashboard").status_code == 303


def test_a_removed_token_ends_its_sessions(make_app, tmp_path):
    path = write_tokens(tmp_path / "tokens.json", entries())
    key = b"k" * 32
    first = make_app(tokens_file=path, tokens=tokens.load(path), session_key=key)
    cookie = session_cookie(sign_in(first.test_client(), ROOT))
    kept = [e for e in entries() if e["name"] != "root"]
    renamed = [*kept, {**next(e for e in entries() if e["name"] == "root"), "sha256": "ab" * 32}]
    for listed in (kept, renamed):  # removed, or the same name with another token
        path2 = write_tokens(tmp_path / "tokens2.json", listed)
        second = make_app(tokens_file=path2, tokens=tokens.load(path2), session_key=key).test_client()
        second.set_cookie(sessions.COOKIE, cookie, path=sessions.PATH)
        assert second.get("/dashboard").status_code == 303
    same = make_app(tokens_file=path, tokens=tokens.load(path), session_key=key).test_client()
    same.set_cookie(sessions.COOKIE, cookie, path=sessions.PATH)
    assert same.get("/dashboard").status_code == 200  # the same key and token: still signed in


def test_a_token_without_the_scope_is_refused_a_page(guarded):
    client = sign_in(guarded.test_client(), WRITER)  # decide and vendors, not read
    for endpoint, method, path in requests_of(guarded):
        need = DASHBOARD.get(endpoint)
        if method != "GET" or need in (None, access.OPEN) or need in TOKENS[WRITER][1]:
            continue
        answer = client.get(path)
        assert answer.status_code == 403, endpoint
        assert "lacks the scope" in answer.get_data(as_text=True)


def test_a_reader_sees_no_replay_form_and_cannot_post_one(guarded):
    client = sign_in(guarded.test_client(), READER)
    html = client.get("/dashboard/scenarios").get_data(as_text=True)
    assert "needs a token with the scope replay" in html and "<textarea" not in html
    answer = client.post(
        "/dashboard/scenarios", data={"csrf_token": csrf_of(client, "/dashboard/scenarios"), "scenario": "x"}
    )
    assert answer.status_code == 403


@pytest.mark.parametrize("path", ["/dashboard/scenarios", "/dashboard/sign-out", "/dashboard/sign-in"])
def test_a_cross_site_form_post_is_refused(guarded, path):
    client = sign_in(guarded.test_client(), ROOT)
    token = csrf_of(client, "/dashboard/scenarios")
    fields = {"scenario": "dpf-annulled-2027-03-01.json", "token": ROOT}
    for data, headers in (
        (fields, {}),  # no CSRF token
        ({**fields, "csrf_token": ("y" if token[0] == "x" else "x") + token[1:]}, {}),  # not this session's
        ({**fields, "csrf_token": token}, {"Origin": "https://evil.example"}),  # from another site
    ):
        answer = client.post(path, data=data, headers=headers)
        assert answer.status_code == 403, (path, data, headers)
        assert "CSRF" in answer.get_data(as_text=True) or "another site" in answer.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200  # still signed in: sign-out was refused too


def test_a_form_from_this_host_over_https_behind_a_proxy_is_accepted(guarded):
    """The browser says https, the service behind a TLS proxy sees http: the same host counts."""
    client = sign_in(guarded.test_client(), ROOT)
    answer = client.post(
        "/dashboard/sign-out",
        data={"csrf_token": csrf_of(client, "/dashboard")},
        headers={"Origin": "https://localhost"},
    )
    assert answer.status_code == 303


def test_a_cookie_is_no_credential_for_the_api(guarded):
    client = sign_in(guarded.test_client(), ROOT)
    cookie = session_cookie(client)
    api = guarded.test_client()
    api.set_cookie(sessions.COOKIE, cookie, path="/")  # even if a browser sent it beyond /dashboard
    assert api.get("/v1/register").status_code == 401
    assert api.get("/dashboard").status_code == 200


def test_signing_out_ends_the_session(guarded):
    client = sign_in(guarded.test_client(), ROOT)
    answer = client.post("/dashboard/sign-out", data={"csrf_token": csrf_of(client, "/dashboard")})
    assert answer.status_code == 303
    assert client.get("/dashboard").status_code == 303


def test_a_bearer_token_also_opens_a_page(guarded):
    client = guarded.test_client()
    assert client.get("/dashboard", headers={"Authorization": f"Bearer {READER}"}).status_code == 200
    assert client.get("/dashboard", headers={"Authorization": f"Bearer {WRITER}"}).status_code == 403
    assert client.get("/dashboard", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_without_tokens_the_dashboard_is_open_but_forms_still_need_csrf(client):
    assert client.get("/dashboard").status_code == 200
    assert client.get("/dashboard/sign-in").status_code == 303  # nothing to sign in to
    assert client.post("/dashboard/scenarios", data={"scenario": "x"}).status_code == 403


def test_the_token_is_never_logged(guarded, caplog):
    client = guarded.test_client()
    with caplog.at_level("DEBUG"):
        sign_in(client, ROOT)
        client.get("/dashboard")
    assert ROOT not in caplog.text
