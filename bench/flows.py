"""The flows every part of the benchmark sends, so that all numbers describe the same requests.

The date is fixed: the reference data is judged as it stood on that day, so a run next
year decides (and costs) the same as a run today.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

AS_OF = "2026-11-22"
TODAY = dt.date.fromisoformat(AS_OF)
EXPORTER = {"name": "Acme BV", "country": "NL"}
DPA = {"dpa": {"signed": True}}
GENERAL_AUTHORISATION = {"kind": "general", "notified": True, "objection_period_elapsed": True}


def one_hop_eea() -> dict[str, Any]:
    """A controller in NL with a processor in DE: no transfer at all."""
    recipient = {"name": "HostCo GmbH", "role": "processor", "country": "DE", "agreement": DPA}
    return {"as_of": AS_OF, "exporter": EXPORTER, "recipient": recipient}


def one_hop_third_country(safeguards: dict[str, Any] | None = None) -> dict[str, Any]:
    """A processor in Singapore under SCC module 2 with a TIA (no problematic law): allow.

    `safeguards` replaces those, for the variants the peer check compares.
    """
    if safeguards is None:
        safeguards = {"scc": {"module": 2}, "tia": {"outcome": "no_problematic_law"}}
    agreement = {**DPA, "safeguards": safeguards}
    recipient = {"name": "Lion Data Pte", "role": "processor", "country": "SG", "agreement": agreement}
    return {"as_of": AS_OF, "exporter": EXPORTER, "recipient": recipient}


def chain() -> dict[str, Any]:
    """3 hops, 6 locations under nl-gov: NL + AWS Frankfurt, then IE + US (DPF), then IN + SG."""
    sub_sub = {
        "name": "Support Services Pvt",
        "country": "IN",
        "locations": ["IN", "SG"],
        "agreement": {
            **DPA,
            "authorisation": GENERAL_AUTHORISATION,
            "flow_down": True,
            "safeguards": {"scc": {"module": 3}, "tia": {"outcome": "no_problematic_law"}},
        },
    }
    sub = {
        "name": "MailerInc Ireland",
        "country": "IE",
        "locations": ["IE", "US"],
        "certifications": ["eu-us-dpf"],
        "agreement": {**DPA, "authorisation": GENERAL_AUTHORISATION, "flow_down": True},
        "sub_processors": [sub_sub],
    }
    root = {
        "name": "PayrollCo",
        "role": "processor",
        "country": "NL",
        "locations": ["NL", {"cloud": "aws", "region": "eu-central-1"}],
        "agreement": DPA,
        "sub_processors": [sub],
    }
    exporter = {"name": "Gemeente Utrecht", "country": "NL", "public_body": True}
    return {"as_of": AS_OF, "policy": "nl-gov", "exporter": exporter, "recipient": root}


BENCHMARK_FLOWS = {
    "one_hop_eea": one_hop_eea,
    "one_hop_third_country": one_hop_third_country,
    "chain_3hop_6loc": chain,
}


def mixed(count: int) -> list[dict[str, Any]]:
    """`count` flows, the three kinds in turn (EEA, third country, chain)."""
    makers = itertools.cycle(BENCHMARK_FLOWS.values())
    return [next(makers)() for _ in range(count)]


# ---------------------------------------------------------------- a realistic, seeded mix

#: (name, country, locations, certifications): vendors as procurement desks meet them
VENDORS: tuple[tuple[str, str, tuple[Any, ...], tuple[str, ...]], ...] = (
    ("HostCo GmbH", "DE", (), ()),
    ("Zaakwerk BV", "NL", ("NL",), ()),
    ("Nordic Backup AB", "SE", ("SE", "FI"), ()),
    ("Lion Data Pte", "SG", (), ()),
    ("MailerInc", "US", ("US",), ("eu-us-dpf",)),
    ("CRM Cloud Inc", "US", ("US", "IE"), ("eu-us-dpf",)),
    ("Support Services Pvt", "IN", ("IN", "SG"), ()),
    ("Maple Payroll", "CA", (), ()),
    ("Tokyo Analytics KK", "JP", (), ()),
    ("Seoul Messaging", "KR", (), ()),
    ("London Print Ltd", "GB", (), ()),
    ("Zurich Archive AG", "CH", (), ()),
    ("Sao Paulo Dev", "BR", (), ()),
    ("Cape Town Call", "ZA", (), ()),
    ("Kyiv Code", "UA", (), ()),
    (
        "AWS EMEA",
        "LU",
        ({"cloud": "aws", "region": "eu-central-1"}, {"cloud": "aws", "region": "us-east-1"}),
        (),
    ),
    ("Microsoft Ireland", "IE", ({"cloud": "azure", "region": "westeurope"},), ("eu-us-dpf",)),
    ("Google Cloud EMEA", "IE", ({"cloud": "gcp", "region": "europe-west4"},), ()),
    ("Israeli Security", "IL", (), ()),
    ("NZ Survey", "NZ", (), ()),
)
SAFEGUARDS: tuple[dict[str, Any] | None, ...] = (
    None,
    {"scc": {"module": 2}, "tia": {"outcome": "no_problematic_law"}},
    {"scc": {"module": 3}, "tia": {"outcome": "no_problematic_law"}},
    {"scc": {"module": 2}},
    {"bcr": {"kind": "processor", "approved": True}, "tia": {"outcome": "no_problematic_law"}},
    {"derogation": {"ground": "explicit_consent", "occasional": True}},
)
EXPORTERS = (
    {"name": "Acme BV", "country": "NL"},
    {"name": "Gemeente Utrecht", "country": "NL", "public_body": True},
    {"name": "Muster GmbH", "country": "DE"},
    {"name": "Stad Gent", "country": "BE", "public_body": True},
)
POLICIES = ("gdpr", "gdpr", "gdpr", "nl-gov", "eu-residency")
DATES = ("2026-11-22", "2026-11-22", "2026-11-22", "2025-06-30", "2024-01-15", "2022-09-01", "2020-03-01")


def varied(count: int, seed: int = 2026) -> list[dict[str, Any]]:
    """`count` flows that differ as real traffic does: a pool of 20 vendors in 18 countries
    and 3 clouds, roles, safeguards, chains of 1 to 3 hops, 3 profiles, 2 languages and 7
    dates, drawn with a fixed seed (so every run sends the same flows)."""
    import random

    draw = random.Random(seed)

    def recipient(depth: int) -> dict[str, Any]:
        name, country, locations, certifications = draw.choice(VENDORS)
        agreement: dict[str, Any] = {"dpa": {"signed": draw.random() < 0.9}}
        safeguards = draw.choice(SAFEGUARDS)
        if safeguards:
            agreement["safeguards"] = safeguards
        node: dict[str, Any] = {"name": name, "country": country, "agreement": agreement}
        if locations:
            node["locations"] = list(locations)
        if certifications:
            node["certifications"] = list(certifications)
        if depth > 0:
            agreement.update(authorisation=GENERAL_AUTHORISATION, flow_down=draw.random() < 0.9)
        if depth < 2 and draw.random() < 0.35:
            node["sub_processors"] = [recipient(depth + 1) for _ in range(draw.randint(1, 2))]
        return node

    flows = []
    for _ in range(count):
        root = recipient(0)
        root["role"] = draw.choices(("processor", "controller", "joint_controller"), (7, 2, 1))[0]
        if root["role"] != "processor":
            root.pop("sub_processors", None)
        flows.append(
            {
                "as_of": draw.choice(DATES),
                "policy": draw.choice(POLICIES),
                "lang": draw.choice(("nl", "en")),
                "exporter": dict(draw.choice(EXPORTERS)),
                "recipient": root,
            }
        )
    return flows
