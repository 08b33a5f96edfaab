"""The dashboard (SPEC section 13) through Flask's test client: pages, languages, data, forms.

Sign-in, sessions and CSRF are in test_dashboard_access.py; the real browser (layout, console,
keyboard, accessibility, screenshots) is in tests/browser/.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from service.dashboard import chart, text
from service.decision_log import open_log
from service.lookup import today_utc
from tests.service.test_http_vendors import ACME, CUSTOMER, _changed

TEMPLATES = Path(__file__).parents[2] / "service" / "templates" / "dashboard"
PAGES = ("/dashboard", "/dashboard/vendors", "/dashboard/register", "/dashboard/scenarios")


@pytest.fixture
def filled(client, flows):
    """A log with a vendor in two revisions decided under two policies, and three flows."""
    assert client.put("/v1/vendors/acme-crm", json=ACME).status_code == 201
    assert client.put("/v1/vendors/acme-crm", json=_changed()).status_code == 201
    ids = {}
    for policy in ("gdpr", "nl-gov"):
        answer = client.post("/v1/vendors/acme-crm/decisions", json={"exporter": CUSTOMER, "policy": policy})
        assert answer.status_code == 200, answer.text
        ids[policy] = answer.get_json()["decision_id"]
    for name in ("allow", "conditions", "deny"):
        answer = client.post("/v1/decisions", json={**flows[name], "reference": f"flow-{name}"})
        ids[name] = answer.get_json()["decision_id"]
    return ids


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.data[:500])
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_page_renders_in_both_languages(client, filled, lang):
    words = text.Words(lang)
    paths = [
        *PAGES,
        "/dashboard/vendors/acme-crm",
        f"/dashboard/decisions/{filled['gdpr']}",
        f"/dashboard/decisions/{filled['deny']}",
    ]
    for path in paths:
        html = page(client, f"{path}?lang={lang}")
        assert f'<html lang="{lang}">' in html
        assert words.skip in html and words.overview in html
        assert "http://" not in re.sub(r'href="https?://[^"]*"', "", html), (
            path
        )  # nothing loaded from elsewhere
        assert "<script" not in html
        assert "bound method" not in html and "Undefined" not in html  # every value rendered as text


def test_the_language_follows_the_browser_without_lang(client):
    html = client.get("/dashboard", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}).get_data(True)
    assert '<html lang="nl">' in html and "Leveranciers per besluit" in html
    assert '<html lang="en">' in page(client, "/dashboard")


def test_links_keep_the_language_and_offer_the_other(client, filled):
    html = page(client, "/dashboard/vendors/acme-crm?lang=nl&policy=gdpr")
    assert 'href="/dashboard/vendors?lang=nl"' in html
    switch = re.search(r'<a href="([^"]+)" hreflang="en"', html)
    assert switch and "lang=en" in switch.group(1) and "policy=gdpr" in switch.group(1)


def test_security_headers_on_every_page(client):
    for path in (*PAGES, "/dashboard/static/dashboard.css", "/dashboard/sign-in"):
        response = client.get(path)
        assert "default-src 'none'" in response.headers["Content-Security-Policy"], path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_overview_counts_vendors_actions_and_days(client, filled):
    html = page(client, "/dashboard")
    vendors = html.split('id="vendors-h"')[1].split("</section>")[0]
    assert vendors.count(">acme-crm</a>") == 2  # one vendor, two policies
    assert "<h3>gdpr</h3>" in vendors and "<h3>nl-gov</h3>" in vendors
    today = today_utc().isoformat()
    row = re.search(rf"<th scope=\"row\">{today}</th>((?:<td>\d+</td>)+)", html)
    assert row is not None
    counts = [int(n) for n in re.findall(r"<td>(\d+)</td>", row.group(1))]
    assert counts[-1] == 5 and sum(counts[:-1]) == 5  # two vendor decisions and three flows today
    assert html.count("<rect ") >= 2  # today's bar has at least two outcomes stacked
    assert "Open actions by actor" in html and "Gemeente Utrecht" in html
    transfers = html.split('id="transfers-h"')[1]
    for name in ("allow", "conditions", "deny"):
        assert f"flow-{name}" in transfers


def test_the_overview_filters_by_policy(client, filled):
    html = page(client, "/dashboard?policy=nl-gov")
    vendors = html.split('id="vendors-h"')[1].split("</section>")[0]
    assert "<h3>nl-gov</h3>" in vendors and "<h3>gdpr</h3>" not in vendors
    assert "unknown policy" in page(client, "/dashboard?policy=nope", 422)


def test_the_vendor_page_shows_the_chain_revisions_and_review(client, filled):
    html = page(client, "/dashboard/vendors/acme-crm?policy=gdpr")
    assert filled["gdpr"][:8] in html
    for party in (ACME["recipient"]["name"], *(s["name"] for s in _changed()["recipient"]["sub_processors"])):
        assert party in html, party
    revisions = html.split('id="revisions-h"')[1]
    assert "Analytics Co: added" in revisions
    object_by = (today_utc() + dt.timedelta(days=ACME["notice_days"])).isoformat()
    assert object_by in revisions and f"{ACME['notice_days']} days left" in revisions
    review = client.post(
        "/v1/vendors/acme-crm/review",
        json={"notified_on": today_utc().isoformat(), "exporter": CUSTOMER, "policy": "gdpr"},
    ).get_json()
    assert f"badge-verdict-{review['verdict']}" in revisions  # the API's own review of the change


def test_the_vendors_page_links_the_latest_decision_per_policy(client, filled):
    again = client.post("/v1/vendors/acme-crm/decisions", json={"exporter": CUSTOMER, "policy": "gdpr"})
    newest = again.get_json()["decision_id"]
    html = page(client, "/dashboard/vendors")
    assert f"/dashboard/decisions/{newest}" in html and f"/dashboard/decisions/{filled['nl-gov']}" in html
    assert f"/dashboard/decisions/{filled['gdpr']}" not in html  # an older gdpr decision is not the latest


def test_an_undecided_vendor_shows_its_documented_chain(client):
    client.put("/v1/vendors/acme-crm", json=ACME)
    html = page(client, "/dashboard/vendors/acme-crm")
    assert "no decision is logged for this vendor yet" in html
    assert ACME["recipient"]["sub_processors"][0]["name"] in html
    page(client, "/dashboard/vendors/nobody", 404)


def test_the_decision_page_cites_the_law(client, filled):
    response = client.get(f"/v1/decisions/{filled['deny']}").get_json()
    assert response["denials"]
    html = page(client, f"/dashboard/decisions/{filled['deny']}")
    for denial in response["denials"]:
        assert denial["code"] in html
        for basis in denial["basis"]:
            assert basis.replace("'", "&#39;") in html
    assert "Request as logged" in html
    page(client, "/dashboard/decisions/00000000-0000-4000-8000-000000000000", 404)


def test_the_register_page_and_its_download(client, filled):
    html = page(client, "/dashboard/register")
    api = client.get("/v1/register").get_json()["rows"]
    assert len(api) > 0
    for row in api:
        assert row["decision_id"] in html
    download = client.get("/dashboard/register.csv?format=csv")
    assert download.data == client.get("/v1/register?format=csv").data
    assert "attachment" in download.headers["Content-Disposition"]
    filtered = client.get("/dashboard/register.csv?format=csv&policy=nl-gov")
    assert filtered.data == client.get("/v1/register?format=csv&policy=nl-gov").data != download.data


def test_the_scenario_form_starts_a_replay(client, filled, monkeypatch, db_path):
    from service.resources import replays

    started: list[str] = []
    monkeypatch.setattr(replays, "start_detached", lambda job, count, env: started.append(job) or [])
    form = page(client, "/dashboard/scenarios")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post(
        "/dashboard/scenarios",
        data={"csrf_token": token, "scenario": "dpf-annulled-2027-03-01.json", "as_of": "2027-03-01"},
    )
    assert answer.status_code == 303 and started
    job_page = page(client, answer.headers["Location"])
    assert "EU-US Data Privacy Framework annulled" in job_page and 'http-equiv="refresh"' in job_page
    log = open_log(str(db_path))
    try:
        job = log._rows("SELECT params FROM replay_jobs WHERE job_id = ?", (started[0],))
    finally:
        log.close()
    params = json.loads(job[0][0])
    assert params["as_of"] == "2027-03-01" and params["scenario"]["adequacy_end"][0]["on"] == "2027-03-01"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"scenario": "", "own": "{not json"}, "not JSON"),
        ({"scenario": "", "own": ""}, "pick a scenario or write one"),
        ({"scenario": "nope.json"}, "no shipped scenario"),
        (
            {"scenario": "", "own": '{"adequacy_end": [{"decision": "atlantis", "on": "2027-01-01"}]}'},
            "atlantis",
        ),
        ({"scenario": "dpf-annulled-2027-03-01.json", "as_of": "2017-01-01"}, "before 2018-05-25"),
    ],
)
def test_a_bad_scenario_shows_the_form_again(client, fields, words):
    form = page(client, "/dashboard/scenarios")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post("/dashboard/scenarios", data={"csrf_token": token, **fields})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert words in html and 'role="alert"' in html and "<textarea" in html


def test_a_finished_replay_lists_what_flips(client, filled, db_path):
    """The replay's changes as the job view gives them, rendered with links to the decisions."""
    from service.replay import Params
    from service.replay_store import ReplayStore

    log = open_log(str(db_path))
    try:
        store = ReplayStore(log)
        job = store.create(Params(scenario={"title": "t", "adequacy_end": []}))
        change = {
            "decision_id": filled["gdpr"],
            "change": "tightened",
            "reference": None,
            "labels": {},
            "vendor": {"id": "acme-crm", "revision": 2},
            "before": {"decision": "conditions", "codes": []},
            "after": {"decision": "deny", "codes": ["x.y"]},
            "codes_added": ["x.y"],
            "codes_removed": [],
        }
        with store._write("write") as cur:
            cur.execute(
                "INSERT INTO replay_changes (job_id, seq, batch_no, kind, change) VALUES (?, ?, 0, ?, ?)",
                (job.job_id, 1, "tightened", json.dumps(change)),
            )
            cur.execute(
                "UPDATE replay_jobs SET state = 'done', summary = ? WHERE job_id = ?",
                (
                    json.dumps(
                        {
                            "total": 5,
                            "unchanged": 4,
                            "tightened": 1,
                            "loosened": 0,
                            "reasons_changed": 0,
                            "errors": 0,
                        }
                    ),
                    job.job_id,
                ),
            )
    finally:
        log.close()
    html = page(client, f"/dashboard/scenarios/{job.job_id}")
    assert f"/dashboard/decisions/{filled['gdpr']}" in html and "x.y" in html
    assert 'http-equiv="refresh"' not in html
    assert "1 changed" in page(client, "/dashboard/scenarios")
    page(client, "/dashboard/scenarios/no-such-job", 404)


def test_every_word_a_template_uses_exists_in_both_languages():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        methods = {name for name, value in vars(text.Words).items() if callable(value)}
        used |= set(re.findall(r"\bt\.([a-z_]+)\b", source)) - methods
        used |= set(re.findall(r"\bt\(\"([a-z_]+)\"", source))
    assert used and used <= set(text.TEXT), used - set(text.TEXT)
    assert all(en.strip() and nl.strip() for en, nl in text.TEXT.values())
    with pytest.raises(LookupError):
        text.Words("en").no_such_word  # noqa: B018  (a missing word fails the page, never renders empty)


def test_every_register_id_has_words_in_both_languages():
    """The register's mechanisms and assessments, the roles and the zones read as words on the
    Dutch page; a new id in the register or the vocabulary without words fails here."""
    from engine import vocabulary
    from engine.regime import REGIMES
    from service import register

    ids = {("mechanism", m) for m in [*register.MECHANISMS.values(), "none"]}
    ids |= {("assessment", a) for _, a in register.ASSESSMENT}
    ids |= {("role", r) for r in vocabulary.as_dict()["roles"]}
    ids |= {("zone", z) for z in vocabulary.as_dict()["zones"]}
    ids |= {("regime", r) for r in REGIMES}
    missing = sorted(f"{kind}_{value}" for kind, value in ids if f"{kind}_{value}" not in text.TEXT)
    assert missing == []
    assert text.Words("nl").id_name("mechanism", "scc") == "standaardcontractbepalingen (SCC's)"
    assert text.Words("en").id_name("mechanism", "newer-id") == "newer-id"


def test_the_chart_axis_and_bars():
    assert [chart.nice_top(n) for n in (0, 3, 5, 9, 41, 1234)] == [4, 4, 8, 20, 80, 2000]
    days = [("2026-11-01", {"allow": 2, "conditions": 1, "deny": 0}), ("2026-11-02", {"deny": 4})]
    drawn = chart.stacked(days)
    first = [b for b in drawn.bars if b.day == "2026-11-01"]
    assert [b.outcome for b in first] == ["allow", "conditions"]
    assert first[0].height == pytest.approx(2 * first[1].height, abs=0.02)
    assert first[0].y + first[0].height == pytest.approx(drawn.baseline)  # allow sits on the axis
    assert first[1].y + first[1].height == pytest.approx(first[0].y)  # stacked on top
    deny = next(b for b in drawn.bars if b.day == "2026-11-02")
    assert deny.height == pytest.approx(drawn.baseline - drawn.ticks[-1].y)  # 4 of a top of 4
