"""The dashboard as a person uses it, in Debian's Chromium (SPEC section 13 and 15).

One signed-in session walks every page in English and Dutch, on a 1280 px screen and a phone:
no console errors, no accessibility violations (axe-core, WCAG 2.1 A and AA), no sideways
scrolling on the phone, and a screenshot of each. Then the keyboard, the register download
(the same bytes as `/v1/register`), a replay started from the scenarios page, and the cookie.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from axe_playwright_python.base import AXE_SCRIPT

from tests.browser.conftest import DPF_FLOW, TOKEN, bearer, screenshots

pytestmark = pytest.mark.slow

WIDTHS = {"desktop": 1280, "phone": 390}
#: axe-core's rules for WCAG 2.1 levels A and AA
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
REPLAY_WAIT = 60.0


class Tab:
    """A page that records every console error, uncaught exception and failed response."""

    def __init__(self, context: Any):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )


@pytest.fixture(scope="module")
def signed_in(browser: Any, demo: Any) -> Iterator[dict[str, Any]]:
    """One browser context per screen width, each signed in through the form."""
    contexts = {}
    for name, width in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
        if name == "desktop":  # axe-core in every page of this context (CSP does not apply to it)
            context.add_init_script(AXE_SCRIPT)
        tab = Tab(context)
        tab.page.goto(demo.url + "/dashboard?lang=en")
        assert "/dashboard/sign-in" in tab.page.url
        if name == "desktop":
            tab.page.screenshot(path=str(screenshots() / "sign-in-en-1280.png"), full_page=True)
        tab.page.fill("#token", TOKEN)
        tab.page.click("form.card button[type=submit]")
        tab.page.wait_for_url(re.compile(r".*/dashboard\?lang=en$"))
        assert tab.errors == []
        contexts[name] = context
    yield contexts
    for context in contexts.values():
        context.close()


def pages(demo: Any) -> dict[str, str]:
    """Every page a person looks at, by name: the register's first decision and a replay too."""
    flow = requests.get(
        f"{demo.url}/v1/decisions?reference={DPF_FLOW['reference']}", headers=bearer(), timeout=30
    )
    job = requests.post(
        demo.url + "/v1/replays",
        json={
            "scenario": {
                "title": "DPF annulled",
                "adequacy_end": [{"decision": "us-dpf-2023-1795", "on": "2027-03-01"}],
            },
            "as_of": "2027-03-01",
        },
        headers=bearer(),
        timeout=30,
    ).json()
    wait_for_replay(demo, job["id"])
    return {
        "overview": "/dashboard",
        "vendors": "/dashboard/vendors",
        "vendor": "/dashboard/vendors/github?policy=nl-gov",
        "register": "/dashboard/register",
        "decision": f"/dashboard/decisions/{flow.json()['decisions'][0]['decision_id']}",
        "scenarios": "/dashboard/scenarios",
        "replay": f"/dashboard/scenarios/{job['id']}",
    }


def wait_for_replay(demo: Any, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + REPLAY_WAIT
    while time.monotonic() < deadline:
        job: dict[str, Any] = requests.get(
            f"{demo.url}/v1/replays/{job_id}", headers=bearer(), timeout=30
        ).json()
        if job["state"] in ("done", "failed"):
            assert job["state"] == "done", job
            return job
        time.sleep(0.2)
    raise AssertionError(f"replay {job_id} not done within {REPLAY_WAIT} s")


def test_every_page_in_both_languages_on_both_screens(signed_in, demo):
    from axe_playwright_python.base import AxeResults

    problems = []
    for name, path in pages(demo).items():
        for screen, context in signed_in.items():
            for lang in ("en", "nl"):
                tab = Tab(context)
                joiner = "&" if "?" in path else "?"
                tab.page.goto(f"{demo.url}{path}{joiner}lang={lang}")
                assert tab.page.locator("html").get_attribute("lang") == lang
                width = WIDTHS[screen]
                tab.page.screenshot(path=str(screenshots() / f"{name}-{lang}-{width}.png"), full_page=True)
                overflow = tab.page.evaluate("document.documentElement.scrollWidth") - width
                if overflow > 0:
                    problems.append(f"{name} {lang} {screen}: {overflow} px wider than the screen")
                # axe on every page in English, and on the overview in Dutch too (the pages share
                # their markup; the Dutch words are checked for their lang and length there)
                if screen == "desktop" and (lang == "en" or name == "overview"):
                    violations = tab.page.evaluate(f"axe.run(document, {json.dumps(WCAG)})")["violations"]
                    if violations:
                        report = AxeResults({"violations": violations}).generate_report()
                        problems.append(f"{name} {lang}: {report}")
                problems += [f"{name} {lang} {screen}: console: {e}" for e in tab.errors]
                tab.page.close()
    assert problems == []


def test_the_keyboard_reaches_the_content_and_the_navigation(signed_in, demo):
    tab = Tab(signed_in["desktop"])
    page = tab.page
    page.goto(demo.url + "/dashboard?lang=nl")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.goto(demo.url + "/dashboard?lang=nl")
    for _ in range(20):  # bounded: the navigation is within the first few stops
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Leveranciers":
            break
    else:
        raise AssertionError("Tab never reached the link to the vendors")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/dashboard/vendors\?lang=nl$"))
    assert page.locator("h1").inner_text() == "Leveranciers"
    assert tab.errors == []


def test_the_register_download_is_the_register(signed_in, demo, tmp_path):
    tab = Tab(signed_in["desktop"])
    tab.page.goto(demo.url + "/dashboard/register?lang=en")
    with tab.page.expect_download() as info:
        tab.page.click("text=Download as CSV")
    saved = tmp_path / "register.csv"
    info.value.save_as(saved)
    api = requests.get(demo.url + "/v1/register?format=csv", headers=bearer(), timeout=30)
    assert saved.read_bytes() == api.content
    assert api.content.count(b"\n") > 30  # the demo's vendors have many transfers
    assert tab.errors == []


def test_a_scenario_run_from_the_page_lists_what_flips(signed_in, demo):
    tab = Tab(signed_in["desktop"])
    page = tab.page
    page.goto(demo.url + "/dashboard/scenarios?lang=en")
    page.select_option("#scenario", "dpf-annulled-2027-03-01.json")
    page.fill("#as_of", "2027-03-01")
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/scenarios/[0-9a-f-]{36}\?lang=en$"))
    page.wait_for_selector("#flips-h", timeout=REPLAY_WAIT * 1000)  # the page reloads itself until done
    flipped = requests.get(
        demo.url + "/v1/decisions?reference=" + DPF_FLOW["reference"], headers=bearer(), timeout=30
    ).json()["decisions"][0]["decision_id"]
    link = page.locator(f"a[href^='/dashboard/decisions/{flipped}']")
    assert link.count() == 1
    link.click()
    page.wait_for_url(re.compile(rf".*/dashboard/decisions/{flipped}.*"))
    assert "transfer.adequacy" in page.content()
    assert tab.errors == []


def test_the_session_cookie(signed_in, demo):
    cookies = {c["name"]: c for c in signed_in["desktop"].cookies(demo.url + "/dashboard")}
    session = cookies["doorgifte_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict" and session["path"] == "/dashboard"
    assert TOKEN not in session["value"]
    assert (
        requests.get(
            demo.url + "/v1/register", cookies={"doorgifte_session": session["value"]}, timeout=30
        ).status_code
        == 401
    )
