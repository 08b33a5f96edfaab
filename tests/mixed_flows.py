"""A mix of valid flow requests for the stress tests, and their answers in a comparable form.

Every profile (gdpr, nl-gov, eu-residency, sensitive-in-eea), several dates (before and after
Schrems II, before and after the EU-US Data Privacy Framework), both languages, single hops
and chains up to depth 3, so that allow, conditions and deny all occur. Every flow names its
`as_of`, so its answer does not depend on the day the test runs: an answer from the service
can be compared with one computed in this process.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from engine.api import Engine
from engine.errors import RequestInvalid
from tests.conftest import TODAY

PROFILES = ("gdpr", "nl-gov", "eu-residency", "sensitive-in-eea")
DATES = ("2019-06-01", "2020-12-01", "2023-07-10", "2025-03-15", "2026-11-22")
DPA = {"dpa": {"signed": True}}

RECIPIENTS: list[dict[str, Any]] = [
    {"name": "Lisboa Dados Lda", "role": "processor", "country": "PT", "agreement": DPA},
    {"name": "Merlion Cloud", "role": "processor", "country": "SG", "agreement": DPA},
    {
        "name": "Shenzhen Compute",
        "role": "processor",
        "country": "CN",
        "agreement": {
            "dpa": {"signed": True},
            "safeguards": {"scc": {"module": 2}, "tia": {"outcome": "no_effective_measures"}},
        },
    },
    {
        "name": "Lakeside SaaS",
        "role": "processor",
        "country": "US",
        "certifications": ["eu-us-dpf"],
        "agreement": DPA,
    },
    {"name": "Kyoto Analytics", "role": "controller", "country": "JP"},
    {"name": "Zurich Treuhand", "role": "processor", "country": "CH", "agreement": DPA},
    {
        "name": "Cloudy Regions",
        "role": "processor",
        "locations": [{"cloud": "aws", "region": "eu-central-1"}, {"cloud": "aws", "region": "us-east-1"}],
        "agreement": DPA,
    },
    {
        # depth 2: a DPF-listed processor with a Mexican sub-processor under specific authorisation
        "name": "Lakeside Chain",
        "role": "processor",
        "country": "US",
        "certifications": ["eu-us-dpf"],
        "agreement": DPA,
        "sub_processors": [
            {
                "name": "Monterrey Soporte",
                "country": "MX",
                "agreement": {
                    "dpa": {"signed": True},
                    "flow_down": True,
                    "authorisation": {"kind": "specific", "granted": True},
                },
            }
        ],
    },
    {
        # depth 3: an Irish processor, an Indian sub-processor objected to, and a Brazilian one below Mexico
        "name": "Dublin Hosting",
        "role": "processor",
        "country": "IE",
        "agreement": DPA,
        "sub_processors": [
            {
                "name": "Pune Ops",
                "country": "IN",
                "agreement": {"authorisation": {"kind": "general", "objected": True}},
            },
            {
                "name": "CDMX Data",
                "country": "MX",
                "agreement": {
                    "dpa": {"signed": True},
                    "authorisation": {"kind": "general", "notified": True},
                },
                "sub_processors": [{"name": "Sao Paulo Backup", "country": "BR"}],
            },
        ],
    },
]


def mixed_flows(engine: Engine) -> list[dict[str, Any]]:
    """Every recipient under every profile on every date (the valid combinations), in a fixed order."""
    flows = []
    for (r, recipient), policy, (d, as_of) in itertools.product(
        enumerate(RECIPIENTS), PROFILES, enumerate(DATES)
    ):
        flow: dict[str, Any] = {
            "as_of": as_of,
            "policy": policy,
            "lang": ("en", "nl")[(r + d) % 2],
            "exporter": {"name": "Gemeente Utrecht", "country": "NL", "public_body": policy == "nl-gov"},
            "recipient": copy.deepcopy(recipient),
        }
        if policy == "sensitive-in-eea" or r % 3 == 0:
            flow["data"] = {"categories": ["health"] if policy == "sensitive-in-eea" else ["contact"]}
        try:
            engine.evaluate(flow, TODAY)
        except RequestInvalid:
            continue
        flows.append(flow)
    return flows


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """A decision as JSON without what differs between two evaluations of one flow
    (`decision_id`) or belongs to the transport (`index`, `status` of a batch, `logged` and the
    log record `log` of a decision read back)."""
    return {k: v for k, v in answer.items() if k not in ("decision_id", "index", "status", "logged", "log")}


def expected_answer(engine: Engine, flow: dict[str, Any]) -> dict[str, Any]:
    """The single-threaded, in-process answer to `flow`, comparable with a served one."""
    return comparable(engine.evaluate(flow, TODAY).model_dump(mode="json"))
