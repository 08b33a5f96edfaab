"""What a person reads in the requested language: places, act titles, labels and citations.

Codes and `params` never change with the language; only rendered text does. In Dutch
(SPEC section 10) a message names countries in Dutch with their article ("in de
Verenigde Staten", through pycountry's own translations), acts by their Dutch titles
("Uitvoeringsbesluit (EU) 2021/914"), clauses, derogation grounds, sectors and
measures by the AVG's words (`policies/words/labels.yaml`), and `basis` cites in the Dutch
form ("art. 46 lid 2 onder c AVG"). English keeps the ids, except the location words
and derogation grounds, which read better as words.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import re
from typing import TYPE_CHECKING, Any

import pycountry
from pydantic import BaseModel, ConfigDict

from engine import vocabulary as v
from engine.paths import POLICIES_DIR
from engine.yamlfile import read

if TYPE_CHECKING:  # the type only: validate imports this module while reference data loads
    from engine.reference import Reference

LABELS_PATH = POLICIES_DIR / "words" / "labels.yaml"

ByLang = dict[str, dict[str, str]]


class LabelFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    countries: dict[str, Any]
    location_words: ByLang
    derogations: ByLang
    sectors: ByLang
    measures: ByLang
    certifications: ByLang
    clauses: ByLang
    exclusions: ByLang
    bcr_kinds: ByLang
    reasons: ByLang
    categories: ByLang


#: the title of each SCC set, per language (SPEC section 10: "Uitvoeringsbesluit (EU) 2021/914")
SCC_TITLES = {
    "en": {
        "2021/914": "Implementing Decision (EU) 2021/914",
        "2010/87/EU": "Decision 2010/87/EU",
        "2001/497/EC": "Decision 2001/497/EC",
        "2004/915/EC": "Decision 2004/915/EC",
        None: "ad hoc clauses (no Commission set existed for these roles on this date)",
    },
    "nl": {
        "2021/914": "Uitvoeringsbesluit (EU) 2021/914",
        "2010/87/EU": "Besluit 2010/87/EU",
        "2001/497/EC": "Beschikking 2001/497/EG",
        "2004/915/EC": "Beschikking 2004/915/EG",
        None: "ad-hocbepalingen (op deze datum bestond voor deze rollen geen set van de Commissie)",
    },
}
#: a clause set as a regime adopts it with its own changes (param `adapted_for`: the 2021/914 clauses
#: as the FDPIC recognised them for Switzerland on 2021-08-27), after the set's title
ADAPTED = {
    "en": {"CH": "with the Swiss adaptations"},
    "nl": {"CH": "met de Zwitserse aanpassingen"},
}
CONTROLLER = {"en": "the controller", "nl": "de verwerkingsverantwoordelijke"}
#: values a message may use that are derived from a param (validate.py checks templates with it)
DERIVED = v.DERIVED_PARAMS

#: which words a param's ids are, by the param's name
PARAM_KINDS = {
    "ground": "derogations",
    "sector": "sectors",
    "sectors": "sectors",
    "measures": "measures",
    "certifications": "certifications",
    "missing": "clauses",
    "kind": "bcr_kinds",
    "reason": "reasons",
    "categories": "categories",
}


#: the UK's own transfer tools, by id (SPEC section 4a; nl-terms.md 1c: no Dutch names)
INSTRUMENT_TITLES = {
    "en": {
        "idta": "International Data Transfer Agreement (IDTA)",
        "uk_addendum": "UK Addendum to the 2021 EU standard contractual clauses",
        None: "transfer tool",
    },
    "nl": {
        "idta": "International Data Transfer Agreement (IDTA)",
        "uk_addendum": "UK Addendum bij de EU-standaardcontractbepalingen van 2021",
        None: "doorgifte-instrument",
    },
}


class Localiser:
    """Renders ids, places, acts and citations for one language; English is mostly identity."""

    def __init__(self, reference: Reference, labels: LabelFile | None = None):
        self.ref = reference
        self.labels = labels or read(LABELS_PATH).validate(LabelFile)
        self._nl = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["nl"])
        articles = self.labels.countries.get("nl_article", {})
        self._article = {code: article for article, codes in articles.items() for code in codes}

    # ------------------------------------------------------------ messages

    def values(self, values: dict[str, Any], lang: str) -> dict[str, Any]:
        """The values a message template is filled with, in `lang` (params stay as they are)."""
        if lang == "en":
            return self._english(values)
        out = dict(values)
        if "decision" in out:
            out["decision_title"] = _adapted(
                SCC_TITLES[lang].get(out["decision"], out["decision"]), out, lang
            )
        if "instrument" in out:
            out["instrument_title"] = INSTRUMENT_TITLES[lang].get(out["instrument"], out["instrument"])
        for name, kind in PARAM_KINDS.items():
            if name in out:
                out[name] = self.words(kind, out[name], lang)
        if "location" in out:
            out["location"] = self.place(out["location"], lang)
        if "home_country" in out and out["home_country"]:
            out["home_country"] = self.place(out["home_country"], lang)
        if lang != "nl":
            return out
        if isinstance(out.get("act"), str):
            out["act"] = dutch_act(out["act"])
        if isinstance(out.get("decision"), str):
            out["decision"] = out["decision"].replace("/EC", "/EG")
        for name in ("concluded_by", "until"):
            if isinstance(out.get(name), str):
                out[name] = dutch_date(out[name])
        if out.get("exclusions"):
            texts = self.labels.exclusions.get("nl", {})
            out["texts"] = " ".join(texts.get(e, "") for e in out["exclusions"]).strip() or out.get("texts")
        return out

    def _english(self, values: dict[str, Any]) -> dict[str, Any]:
        """English keeps ids, but for the clause set's title, a derogation ground and the
        location words; most messages need none of these, so nothing is copied then."""
        changes: dict[str, Any] = {}
        if "decision" in values:
            title = SCC_TITLES["en"].get(values["decision"], values["decision"])
            changes["decision_title"] = _adapted(title, values, "en")
        if "instrument" in values:
            changes["instrument_title"] = INSTRUMENT_TITLES["en"].get(
                values["instrument"], values["instrument"]
            )
        if "ground" in values:
            changes["ground"] = self.words("derogations", values["ground"], "en")
        if "categories" in values:
            changes["categories"] = self.words("categories", values["categories"], "en")
        words = self.labels.location_words.get("en", {})
        if values.get("location") in words:
            changes["location"] = words[values["location"]]
        return {**values, **changes} if changes else values

    def controller(self, name: str | None, lang: str) -> dict[str, str]:
        """`{controller}` and `{controller_cap}`: the role, named when the flow names it, so that
        a municipality reads that the consent is its own to give."""
        word = CONTROLLER[lang]
        text = f"{word} ({name})" if name else word
        return {"controller": text, "controller_cap": text[0].upper() + text[1:]}

    def words(self, kind: str, value: Any, lang: str) -> Any:
        table: dict[str, str] = getattr(self.labels, kind).get(lang, {})
        if isinstance(value, list):
            return [table.get(v, v) for v in value]
        return table.get(value, value) if isinstance(value, str) else value

    def place(self, label: str | None, lang: str) -> str | None:
        """A place as running text: a country's name (Dutch, with its article), a word, or as given."""
        if label is None:
            return None
        words = self.labels.location_words.get(lang, {})
        if label in words:
            return words[label]
        if lang == "nl" and len(label) == 2 and label.isupper():
            return self.country_nl(label)
        return label

    def places(self, labels: list[str], lang: str) -> list[str]:
        return [self.place(label, lang) or label for label in labels]

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one Localiser per engine, a bounded set of countries
    def country_nl(self, code: str) -> str:
        fixed = self.labels.countries.get("nl", {}).get(code)
        record = pycountry.countries.get(alpha_2=code)
        if fixed is not None:
            name = fixed
        elif record is not None:
            name = self._nl.gettext(getattr(record, "common_name", None) or record.name)
        else:
            return code
        article = self._article.get(code)
        return f"{article} {name}" if article else name

    def basis(self, references: list[str], lang: str) -> list[str]:
        return [dutch_basis(r) for r in references] if lang == "nl" else references


def _adapted(title: Any, values: dict[str, Any], lang: str) -> Any:
    """`Implementing Decision (EU) 2021/914, with the Swiss adaptations` for `adapted_for: CH`."""
    words = ADAPTED[lang].get(values.get("adapted_for") or "")
    return f"{title}, {words}" if words and isinstance(title, str) else title


MONTHS_NL = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def dutch_date(text: str) -> str:
    """`2022-12-27` -> `27 december 2022` (nl-terms.md, style note 7: dates in words)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"


# ----------------------------------------------------------------- citations


_ACTS = [
    (re.compile(r"^(?:Commission )?Implementing Decision \(EU\) (\d{4}/\d+)"), r"Uitvoeringsbesluit (EU) \1"),
    (re.compile(r"^Commission Implementing Decision (\d{4}/\d+/EU)"), r"Uitvoeringsbesluit \1"),
    (re.compile(r"^Commission Decision (\d{4}/\d+)/EC"), r"Beschikking \1/EG"),
    (re.compile(r"^Commission Decision (\d{4}/\d+/EU)"), r"Besluit \1"),
]
_ACT_INSIDE = re.compile(r"(?<= )(?:Commission )?Implementing Decision \(EU\) (\d{4}/\d+)")
_ACT_WORDS = [
    (" amending ", " tot wijziging van "),
    ("(Safe Harbour)", "(veiligehavenbeschikking)"),
    ("(EU-US Privacy Shield)", "(EU-VS-privacyschild)"),
    (
        ", with the Swiss adaptations (recognised by the FDPIC on 2021-08-27)",
        ", met de Zwitserse aanpassingen (door de EDÖB erkend op 27 augustus 2021)",
    ),
    ("FDPIC list of states (old DPO Art. 7)", "landenlijst van de EDÖB (art. 7 oude VDSG)"),
    (
        "(United States, organisations certified under the Swiss-US Data Privacy Framework)",
        "(Verenigde Staten, organisaties gecertificeerd onder het Swiss-U.S. Data Privacy Framework)",
    ),
    ("DPO Annex 1 (", "bijlage 1 DSV ("),
]


@functools.lru_cache(maxsize=1024)
def dutch_act(text: str) -> str:
    """`Commission Implementing Decision (EU) 2021/914` -> `Uitvoeringsbesluit (EU) 2021/914`."""
    out = text
    for pattern, replacement in _ACTS:
        out = pattern.sub(replacement, out)
    out = _ACT_INSIDE.sub(r"Uitvoeringsbesluit (EU) \1", out)
    for english, dutch in _ACT_WORDS:
        out = out.replace(english, dutch)
    return out


_ARTICLE = re.compile(r"Art\. (\d+)((?:\(\d+\))?)((?:\([a-z]\))?)")
_GDPR = re.compile(r"^GDPR (Art\. .+|Recital \d+)$")
_DOCUMENT_WORDS = [
    ("EDPB Guidelines ", "Richtsnoeren "),
    ("EDPB Recommendations ", "Aanbevelingen "),
    ("EDPB draft Recommendations ", "ontwerp-Aanbevelingen "),
    ("CJEU ", "HvJ EU "),
    ("EEA Agreement Annex XI", "EER-Overeenkomst, bijlage XI"),
    ("Policy ", "Beleid "),
    (", second subparagraph", " tweede alinea"),
    ("second subparagraph", "tweede alinea"),
    (" section ", " paragraaf "),
    (" paras ", " punten "),
    (" para ", " punt "),
    (" recitals ", " overwegingen "),
    (" recital ", " overweging "),
    (" and ", " en "),
    (" use cases ", " use cases "),
    ("Annex I, Supplemental Principle", "bijlage I, aanvullend beginsel"),
    ("Annex 2", "bijlage 2"),
    (" Clause ", " clausule "),
    ("(module 4)", "(module vier)"),
    (" module 4 ", " module vier "),
]


def _article(match: re.Match[str], definitions: str = "") -> str:
    """`Art. 46(2)(c)` -> `art. 46 lid 2 onder c`; the AVG's definitions are `art. 4 punt 7`."""
    number, paragraph, point = match.groups()
    out = f"art. {number}"
    if paragraph:
        out += (" punt " if number == definitions else " lid ") + paragraph.strip("()")
    if point:
        out += " onder " + point.strip("()")
    return out


#: the Swiss acts as Dutch texts cite them (nl-terms.md section 2: "art. 16 DSG"): the FADP is
#: the DSG, its ordinance the DSV; the acts in force up to 2023-08-31 are the old DSG and VDSG
_SWISS = re.compile(r"^(old )?(FADP|DPO) (Art\. \S+|Annex \d+)(.*)$")
_SWISS_NAMES = {
    ("", "FADP"): "DSG",
    ("", "DPO"): "DSV",
    ("old ", "FADP"): "oude DSG",
    ("old ", "DPO"): "oude VDSG",
}


def _swiss(match: re.Match[str]) -> str:
    old, act, where, rest = match.groups()
    name = _SWISS_NAMES[(old or "", act)]
    where = _ARTICLE.sub(_article, where).replace("Annex ", "bijlage ")
    return f"{where} {name}{dutch_act(rest)}"


@functools.lru_cache(maxsize=1024)
def dutch_basis(reference: str) -> str:
    """A `basis` entry in the Dutch citation form (nl-terms.md section 2): `GDPR Art. 46(2)(c)`
    -> `art. 46 lid 2 onder c AVG`; EDPB documents as Richtsnoeren / Aanbevelingen; acts by
    their Dutch titles. What it does not know stays as written."""
    swiss = _SWISS.match(reference)
    if swiss:
        return _swiss(swiss)
    gdpr = _GDPR.match(reference)
    if gdpr:
        body = gdpr.group(1)
        if body.startswith("Recital"):
            return f"overweging {body.split()[1]} AVG"
        text = _ARTICLE.sub(lambda m: _article(m, definitions="4"), body)
        for english, dutch in _DOCUMENT_WORDS:
            text = text.replace(english, dutch)
        return f"{text} AVG"
    text = dutch_act(reference)
    moved = re.match(r"^(Uitvoeringsbesluit \(EU\) \d{4}/\d+|Beschikking \S+|Besluit \S+) (Art\. .+)$", text)
    if (
        moved
    ):  # "Uitvoeringsbesluit (EU) 2021/914 Art. 4(4)" -> "art. 4 lid 4 Uitvoeringsbesluit (EU) 2021/914"
        text = f"{_ARTICLE.sub(_article, moved.group(2))} {moved.group(1)}"
    text = _ARTICLE.sub(_article, text)
    text = f" {text}"
    for english, dutch in _DOCUMENT_WORDS:
        text = text.replace(english, dutch)
    text = text.strip()
    for kind in ("Richtsnoeren", "Aanbevelingen", "ontwerp-Aanbevelingen"):
        text = re.sub(rf"^{kind} (\d+/\d{{4}})", rf"{kind} \1 EDPB", text)
    return text
