"""Problem documents in Dutch, for a caller that asks for them (SPEC section 10).

A caller asks with `"lang": "nl"` in a flow request or `Accept-Language: nl`. Codes,
`type`, `status` and `loc` never change; `title`, `detail` and each error's `msg` and
`hint` are rewritten from the English by the patterns below, which cover every message
the service and the engine write. Text a pattern does not know (pydantic's own wording
for a rare type error) stays English rather than being guessed at.
"""

from __future__ import annotations

import re
from typing import Any

TITLES = {
    "malformed_json": "Ongeldige JSON",
    "bad_request": "Ongeldig verzoek",
    "unauthorized": "Een geldig bearer-token is vereist",
    "forbidden": "Het token mist de scope die dit verzoek nodig heeft",
    "not_found": "Niet gevonden",
    "method_not_allowed": "Methode niet toegestaan",
    "body_too_large": "Verzoek te groot",
    "unsupported_media_type": "Mediatype niet ondersteund",
    "invalid_request": "Het verzoek voldoet niet aan het contract",
    "chain_too_large": "De verwerkingsketen is te groot",
    "internal_error": "Interne fout",
    "decision_log_unavailable": "Besluitenlog niet beschikbaar",
    "evaluation_timeout": "Beoordeling duurde te lang",
    "not_ready": "Niet gereed",
}

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"^(\d+) problems? in the request$", r"\1 probleem/problemen in het verzoek"),
        (r"^(\d+) bad query parameter\(s\)$", r"\1 ongeldige queryparameter(s)"),
        (r"^unknown field '(.+)'$", r"onbekend veld '\1'"),
        (r"^known fields: (.+)$", r"bekende velden: \1"),
        (r"^(.+) is required$", r"\1 is verplicht"),
        (r"^(.+): (.+) is not allowed$", r"\1: \2 is niet toegestaan"),
        (r"^unknown country (.+)$", r"onbekend land \1"),
        (r"^unknown policy (.+)$", r"onbekend beleid \1"),
        (r"^unknown cloud provider (.+)$", r"onbekende cloudaanbieder \1"),
        (r"^unknown (\S+) region (.+)$", r"onbekende regio \2 van \1"),
        (r"^unknown query parameter (.+)$", r"onbekende queryparameter \1"),
        (r"^query parameter (.+) is given more than once$", r"queryparameter \1 is meer dan eens opgegeven"),
        (r"^give it once$", r"geef hem één keer op"),
        (r"^a recipient needs a country or locations$", r"een ontvanger heeft een land of locaties nodig"),
        (r"^the root recipient needs a role$", r"de eerste ontvanger heeft een rol nodig"),
        (
            r"^(.+) (\S+) is before 2018-05-25, when the GDPR began to apply$",
            r"\1 \2 ligt vóór 25 mei 2018, toen de AVG van toepassing werd",
        ),
        (r"^use a date from 2018-05-25$", r"gebruik een datum vanaf 25 mei 2018"),
        (r"^(.+) (.+) is not a date$", r"\1 \2 is geen datum"),
        (r"^use a date as YYYY-MM-DD$", r"gebruik een datum als JJJJ-MM-DD"),
        (
            r"^use an ISO 3166-1 alpha-2 code such as 'NL' or an English name$",
            r"gebruik een ISO 3166-1 alpha-2-code zoals 'NL' of een Engelse of Nederlandse naam",
        ),
        (r"^did you mean (.+)\?; expected (.+)$", r"bedoelt u \1? Verwacht: \2"),
        (r"^did you mean (.+)\?$", r"bedoelt u \1?"),
        (r"^expected (.+)$", r"verwacht: \1"),
        (r"^known policies: (.+)$", r"bekende beleidsprofielen: \1"),
        (r"^no such path$", r"dit pad bestaat niet"),
        (r"^see GET /openapi.json or /docs$", r"zie GET /openapi.json of /docs"),
        (r"^the request body is not valid JSON(.*)$", r"de body van het verzoek is geen geldige JSON\1"),
        (
            r"^the request body is larger than the limit of (\d+) bytes$",
            r"de body is groter dan de limiet van \1 bytes",
        ),
        (r"^split the request into smaller ones$", r"splits het verzoek in kleinere"),
        (r"^no logged decision (.+)$", r"geen gelogd besluit \1"),
        (r"^use the decision_id of an answer$", r"gebruik de decision_id uit een antwoord"),
        (
            r"^these profiles cannot apply together: (.+)$",
            r"deze beleidsprofielen kunnen niet samen gelden: \1",
        ),
        (r"^this path answers (.+)$", r"dit pad beantwoordt \1"),
        (
            r"^X-Request-Id is 1 to 128 characters of A-Z, a-z, 0-9 and \. _ : -$",
            r"X-Request-Id bestaat uit 1 tot 128 tekens A-Z, a-z, 0-9 en . _ : -",
        ),
        (r"^send a UUID$", r"stuur een UUID"),
        (r"^no bearer token was sent$", r"er is geen bearer-token meegestuurd"),
        (r"^the bearer token is not valid$", r"het bearer-token is niet geldig"),
        (r"^send Authorization: Bearer <token>$", r"stuur Authorization: Bearer <token>"),
        (r"^the token '(.+)' lacks the scope (\S+)$", r"het token '\1' mist de scope \2"),
        (
            r"^use a token with the scope (\S+) or admin$",
            r"gebruik een token met de scope \1 of admin",
        ),
    ]
]


def translate(text: str | None) -> str | None:
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text


def problem(body: dict[str, Any]) -> dict[str, Any]:
    """The problem document in Dutch: title, detail and every error's msg and hint."""
    out = dict(body)
    out["title"] = TITLES.get(str(body.get("code")), body.get("title"))
    out["detail"] = translate(body.get("detail"))
    out["errors"] = [
        {**e, "msg": translate(e.get("msg")), **({"hint": translate(e["hint"])} if e.get("hint") else {})}
        for e in body.get("errors", [])
    ]
    return out
