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
