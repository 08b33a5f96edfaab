"""The golden decision matrix: decisions for every country named in the reference data
x transfer mechanism x policy x date, committed as a snapshot so that any change to
rules or data shows up as a reviewable diff.

Regenerate with `doorgifte golden --write` (or `make golden`); `tests/policies`
compares the committed file with a fresh build.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from engine.api import Engine
from engine.paths import POLICIES_DIR

#: the rule base's answers on the golden matrix, kept beside the rules they come from (reviewed with them)
GOLDEN_PATH = POLICIES_DIR / "golden_matrix.json"
POLICIES = ("gdpr", "nl-gov", "eu-residency")
FIXED_DATES = (dt.date(2019, 1, 1), dt.date(2021, 3, 1), dt.date(2023, 8, 1))
ASSESSED = {"tia": {"outcome": "no_problematic_law"}}
MECHANISMS: dict[str, dict[str, Any]] = {
    "none": {"agreement": {"dpa": {"signed": True}}},
    "scc": {"agreement": {"dpa": {"signed": True}, "safeguards": {"scc": {"module": 2}, **ASSESSED}}},
    "bcr": {
        "agreement": {
            "dpa": {"signed": True},
            "safeguards": {"bcr": {"kind": "controller", "approved": True}, **ASSESSED},
        }
    },
    "dpf": {"certifications": ["eu-us-dpf"], "agreement": {"dpa": {"signed": True}}},
    # revision 2: a Dutch processor's sub-processor in the country, on an occasional explicit
    # consent, which Art. 49(3) closes to the public-body exporter and so to its processors
    "consent_via_processor": {
        "via": "processor",
        "agreement": {
            "dpa": {"signed": True},
            "flow_down": True,
            "authorisation": {"kind": "general", "notified": True, "objection_period_elapsed": True},
            "safeguards": {"derogation": {"ground": "explicit_consent", "occasional": True}},
        },
    },
    # the UK's own tools (SPEC section 4a): the IDTA, and the UK Extension listing
    "idta": {"agreement": {"dpa": {"signed": True}, "safeguards": {"idta": {}, **ASSESSED}}},
    "uk_extension": {"certifications": ["uk-us-data-bridge"], "agreement": {"dpa": {"signed": True}}},
    # the Swiss-US Data Privacy Framework listing (SPEC section 4a: DPO Annex 1 from 2024-09-15)
    "swiss_dpf": {"certifications": ["swiss-us-dpf"], "agreement": {"dpa": {"signed": True}}},
    # revision 2: keys held in the EEA do not protect data a clear-text recipient reads
    "measures": {
        "agreement": {
            "dpa": {"signed": True},
            "safeguards": {
                "scc": {"module": 2},
                "tia": {"outcome": "measures_required"},
                "supplementary_measures": ["encryption_keys_in_eea"],
            },
        }
    },
}


#: the Dutch exporter's matrix uses these; the UK's own tools have their own axis below
EU_MECHANISMS = ("none", "scc", "bcr", "dpf", "consent_via_processor", "measures")
#: the regime axis (SPEC section 4a): an exporter under each other regime, under the law alone,
#: from the first fixed date after the UK left the EEA
REGIME_EXPORTERS: dict[str, dict[str, Any]] = {
    "uk_gdpr": {"name": "Exporter", "country": "GB"},
    "none": {"name": "Exporter", "country": "CA", "subject_to_gdpr": False},
    "ch_fadp": {"name": "Exporter", "country": "CH"},
}
REGIME_MECHANISMS = {
    "uk_gdpr": ("none", "scc", "idta", "bcr", "dpf", "uk_extension"),
    "ch_fadp": ("none", "scc", "bcr", "dpf", "swiss_dpf"),
    "none": ("none", "scc"),
}


def countries(engine: Engine) -> list[str]:
    """Every country code the reference data names: EEA, territories, adequacy, regions."""
    ref = engine.reference
    codes = {m.country for m in ref.eea.members} | {o.country for o in ref.eea.outside}
    codes |= {d.country for d in ref.adequacy.decisions if d.country}
    codes |= {r.country for p in ref.providers.values() for r in p.regions}
    return sorted(codes)


def reference_date(engine: Engine) -> dt.date:
    """The date the reference data was last reviewed: 'today' for the matrix."""
    return dt.date.fromisoformat(engine.reference.version.split(".")[0])


#: the Dutch processor in front of a mechanism that applies `via` a processor
INTERMEDIARY = {
    "name": "Intermediary",
    "role": "processor",
    "country": "NL",
    "agreement": {"dpa": {"signed": True}},
}


def _flow(country: str, mechanism: str, policy: str, on: dt.date, regime: str = "gdpr") -> dict[str, Any]:
    spec = dict(MECHANISMS[mechanism])
    via = spec.pop("via", None)
    recipient = {"name": "Recipient", "role": "processor", "country": country, **spec}
    if via:
        recipient = {**INTERMEDIARY, "sub_processors": [recipient]}
    exporter = REGIME_EXPORTERS.get(regime, {"name": "Exporter", "country": "NL", "public_body": True})
    return {
        "as_of": on.isoformat(),
        "policy": policy,
        "data": {"subjects": ["customers"]},
        "exporter": exporter,
        "recipient": recipient,
    }


def _cell(engine: Engine, flow: dict[str, Any]) -> str:
    decision = engine.evaluate(flow)
    codes = sorted({c.code for c in decision.conditions} | {d.code for d in decision.denials})
    return decision.decision + (f" {','.join(codes)}" if codes else "")


def build(engine: Engine) -> dict[str, Any]:
    dates = (*FIXED_DATES, reference_date(engine))
    matrix = {
        f"{country} {policy} {on.isoformat()}": {
            m: _cell(engine, _flow(country, m, policy, on)) for m in EU_MECHANISMS
        }
        for country in countries(engine)
        for policy in POLICIES
        for on in dates
    }
    matrix |= {
        f"{country} gdpr {on.isoformat()} {regime}": {
            m: _cell(engine, _flow(country, m, "gdpr", on, regime)) for m in mechanisms
        }
        for regime, mechanisms in REGIME_MECHANISMS.items()
        for country in countries(engine)
        for on in dates[1:]
    }
    exporters = ", ".join(f"{regime} from {e['country']}" for regime, e in REGIME_EXPORTERS.items())
    return {
        "about": "Decisions of a controller (NL, public body) engaging a processor in each country; "
        f"mechanism {'/'.join(EU_MECHANISMS)}; and, keyed with a fourth part, of an exporter under "
        f"each other regime ({exporters}); "
        "regenerate with `doorgifte golden --write`.",
        "dates": [d.isoformat() for d in dates],
        "policies": list(POLICIES),
        "matrix": matrix,
    }


def dumps(golden: dict[str, Any]) -> str:
    return json.dumps(golden, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def committed() -> dict[str, Any]:
    """The committed matrix, as `doorgifte golden --write` last wrote it."""
    golden: dict[str, Any] = json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))
    return golden


def committed_flows(
    golden: dict[str, Any], countries: set[str] | None = None
) -> Iterator[tuple[str, dict[str, Any], str, list[str]]]:
    """Every flow of a matrix with its answer there: (name, flow, decision, condition and denial
    codes), optionally only for some countries. The replay gate logs these and decides them
    again, so a change of rules or data shows up as changed decisions."""
    for key, cells in golden["matrix"].items():
        country, policy, on, *regime = key.split(" ")
        if countries and country not in countries:
            continue
        for mechanism, cell in cells.items():
            decision, _, codes = cell.partition(" ")
            flow = _flow(country, mechanism, policy, dt.date.fromisoformat(on), *regime)
            yield f"{key} {mechanism}", flow, decision, codes.split(",") if codes else []
