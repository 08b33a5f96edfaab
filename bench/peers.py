"""(b) The one-hop third-country decision written for peer engines: Cedar (cedarpy), OPA Rego
(regopy), and a plain Python function as the lower bound.

Every peer encodes the same logic as shared/notes/performance.md ("identical in every
candidate"), first rule that applies wins:
1. allow if the country is in the EEA, in the adequacy set (without the US), or it is the US
   and the recipient has `eu-us-dpf`;
2. deny if the TIA outcome is `no_effective_measures`;
3. conditions: the SCC module the roles require (c->c 1, c->p 2, p->p 3, p->c 4),
   `scc_ok = has_scc and module == required`, `tia_missing = no TIA`;
4. roles not recognised: deny.
The country sets come from doorgifte's own reference data on the benchmark date, so the
peers and doorgifte judge with the same facts. `project` turns a peer's verdict into
doorgifte's vocabulary (conditions with nothing outstanding are an allow), and `verify`
asserts that every peer answers like doorgifte on a set of variants of the benchmark flow
before anything is timed. The peers are optional (`pip install -e '.[bench]'`); one that
cannot be imported is reported as missing, not fatal.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.flows import TODAY, one_hop_third_country

Verdict = dict[str, Any]  # {"decision", "scc_module"?, "scc_ok"?, "tia_missing"?, "reason"?}
MODULES = {("controller", "controller"): 1, ("controller", "processor"): 2}
MODULES |= {("processor", "processor"): 3, ("processor", "controller"): 4}
DPF = "eu-us-dpf"
NEM = "no_effective_measures"


@dataclass
class Peer:
    name: str
    version: str | None = None
    decide: Callable[[dict[str, Any]], Verdict] | None = None  # flat input -> verdict
    error: str | None = None  # why it is missing


# ---------------------------------------------------------------- shared facts and mapping


def country_sets(engine: Any) -> tuple[list[str], list[str]]:
    """EEA and adequacy country codes (US left out, as in performance.md) on the benchmark date."""
    ref = engine.reference
    zones = {code: ref.zone(code, TODAY).zone for code in ref.countries()}
    eea = sorted(c for c, z in zones.items() if z == "eea")
    adequate = sorted(c for c, z in zones.items() if z in ("adequate", "adequate_partial") and c != "US")
    return eea, adequate


def flat(payload: dict[str, Any]) -> dict[str, Any]:
    """A one-hop doorgifte request as the peers' flat input."""
    recipient = payload["recipient"]
    safeguards = recipient.get("agreement", {}).get("safeguards", {})
    scc = safeguards.get("scc")
    return {
        "exporter_role": payload["exporter"].get("role", "controller"),
        "recipient_role": recipient.get("role", "processor"),
        "country": recipient["country"],
        "certifications": list(recipient.get("certifications", [])),
        "has_scc": scc is not None,
        "scc_module": scc["module"] if scc else 0,
        "tia": safeguards["tia"]["outcome"] if "tia" in safeguards else "",
    }


def project(verdict: Verdict) -> dict[str, Any]:
    """A peer verdict as doorgifte's decision, conditions and denials (codes only)."""
    if verdict["decision"] != "conditions":
        denials = ["transfer.no_effective_measures"] if verdict.get("reason") == NEM else []
        return {"decision": verdict["decision"], "conditions": [], "denials": denials}
    conditions = [] if verdict["scc_ok"] else [["transfer.sign_scc", verdict["scc_module"]]]
    conditions += [["transfer.assess_impact", None]] if verdict["tia_missing"] else []
    return {"decision": "conditions" if conditions else "allow", "conditions": conditions, "denials": []}


def doorgifte_projection(decision: dict[str, Any]) -> dict[str, Any]:
    """The same fields of a doorgifte decision (from `model_dump(mode="json")`)."""
    return {
        "decision": decision["decision"],
        "conditions": [[c["code"], c["params"].get("module")] for c in decision["conditions"]],
        "denials": [d["code"] for d in decision["denials"]],
    }


# ---------------------------------------------------------------- the peers


def _conditions(f: dict[str, Any], required: int) -> Verdict:
    """The "conditions" verdict every peer gives once it knows the module the roles need."""
    return {
        "decision": "conditions",
        "scc_module": required,
        "scc_ok": f["has_scc"] and f["scc_module"] == required,
        "tia_missing": f["tia"] == "",
    }


def plain(eea: list[str], adequate: list[str]) -> Peer:
    """The rules as a Python function: the floor any engine's overhead is measured against."""
    eea_set, adequate_set = frozenset(eea), frozenset(adequate)

    def decide(f: dict[str, Any]) -> Verdict:
        country = f["country"]
        if country in eea_set or country in adequate_set or (country == "US" and DPF in f["certifications"]):
            return {"decision": "allow"}
        if f["tia"] == NEM:
            return {"decision": "deny", "reason": NEM}
        required = MODULES.get((f["exporter_role"], f["recipient_role"]))
        if required is None:
            return {"decision": "deny", "reason": "roles"}
        return _conditions(f, required)

    return Peer("plain_python", "stdlib", decide)


def cedar_policies(eea: list[str], adequate: list[str]) -> list[tuple[str, str]]:
    """(reason, policy) pairs: 3 allow permits, 4 module permits, 1 forbid."""
    in_eea = f"{json.dumps(eea)}.contains(context.country)"
    in_adequate = f"{json.dumps(adequate)}.contains(context.country)"
    dpf = f'(context.country == "US" && context.certifications.contains("{DPF}"))'
    head = "(principal, action, resource)"
    out = [
        ("eea", f"permit{head} when {{ {in_eea} }};"),
        ("adequacy", f"permit{head} when {{ {in_adequate} }};"),
        ("dpf", f"permit{head} when {{ {dpf} }};"),
    ]
    for (exporter, recipient), module in MODULES.items():
        roles = f'context.exporter_role == "{exporter}" && context.recipient_role == "{recipient}"'
        out.append((f"module{module}", f"permit{head} when {{ {roles} }};"))
    allowed = f"{in_eea} || {in_adequate} || {dpf}"
    out.append((NEM, f'forbid{head} when {{ context.tia == "{NEM}" }} unless {{ {allowed} }};'))
    return out


def cedar(eea: list[str], adequacy: list[str]) -> Peer:
    """cedarpy `is_authorized` with the policy set and entities parsed once.

    Cedar answers Allow or Deny with the ids of the policies that decided; cedarpy numbers
    them policy0, policy1, ... in text order, which maps them back to reasons. An Allow by
    an allow permit wins; else a module permit gives conditions; a Deny naming the forbid is
    the TIA denial; a Deny with no reason is "roles not recognised".
    """
    try:
        import cedarpy
    except ImportError as exc:
        return Peer("cedarpy", error=f"not installed: {exc}")
    pairs = cedar_policies(eea, adequacy)
    reasons = {f"policy{i}": reason for i, (reason, _) in enumerate(pairs)}
    policies = cedarpy.PolicySet.from_str("\n".join(text for _, text in pairs))
    entities = cedarpy.Entities.from_json_str("[]")
    head = {
        "principal": 'Party::"exporter"',
        "action": 'Action::"transfer"',
        "resource": 'Party::"recipient"',
    }

    def decide(f: dict[str, Any]) -> Verdict:
        result = cedarpy.is_authorized({**head, "context": f}, policies, entities)
        fired = {reasons[p] for p in result.diagnostics.reasons}
        if not result.allowed:
            return {"decision": "deny", "reason": NEM if NEM in fired else "roles"}
        if fired & {"eea", "adequacy", "dpf"}:
            return {"decision": "allow"}
        required = int(next(r for r in fired if r.startswith("module"))[len("module") :])
        return _conditions(f, required)

    return Peer("cedarpy", version_of("cedarpy"), decide)


REGO = """
package gdpr

modules := {"controller": {"controller": 1, "processor": 2}, "processor": {"processor": 3, "controller": 4}}

allowed if input.country in data.eea
allowed if input.country in data.adequacy
allowed if {
    input.country == "US"
    "eu-us-dpf" in input.certifications
}

required := modules[input.exporter_role][input.recipient_role]

default scc_ok := false
scc_ok if {
    input.has_scc
    input.scc_module == required
}

decision := {"decision": "allow"} if allowed
else := {"decision": "deny", "reason": "no_effective_measures"} if input.tia == "no_effective_measures"
else := {
    "decision": "conditions",
    "scc_module": required,
    "scc_ok": scc_ok,
    "tia_missing": input.tia == "",
} if required
else := {"decision": "deny", "reason": "roles"}
"""


def rego(eea: list[str], adequacy: list[str]) -> Peer:
    """regopy: the bundle compiled once, then `set_input` + `query_bundle` per call."""
    try:
        import regopy
    except ImportError as exc:
        return Peer("regopy", error=f"not installed: {exc}")
    builder = regopy.Interpreter()
    builder.add_data({"eea": eea, "adequacy": adequacy})
    builder.add_module("gdpr.rego", REGO)
    bundle = builder.build("x = data.gdpr.decision", ["gdpr/decision"])
    interpreter = regopy.Interpreter()

    def decide(f: dict[str, Any]) -> Verdict:
        interpreter.set_input(f)
        output = interpreter.query_bundle(bundle)  # keep it referenced: its nodes live in it
        verdict: Verdict = json.loads(output.binding("x").json())
        return verdict

    return Peer("regopy", version_of("regopy"), decide)


def version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def load(engine: Any) -> list[Peer]:
    eea, adequacy = country_sets(engine)
    return [plain(eea, adequacy), cedar(eea, adequacy), rego(eea, adequacy)]


# ---------------------------------------------------------------- same answers first


def variant(
    country: str = "SG", role: str = "processor", certifications: tuple[str, ...] = (), **safeguards: Any
) -> dict[str, Any]:
    """The benchmark flow with another country, role, listing or safeguards (none: no keywords)."""
    payload = copy.deepcopy(one_hop_third_country(safeguards))
    payload["recipient"].update(country=country, role=role, certifications=list(certifications))
    return payload


def variants() -> list[dict[str, Any]]:
    """The benchmark flow first, then flows that exercise every rule of the shared logic."""
    tia = {"outcome": "no_problematic_law"}
    return [
        one_hop_third_country(),
        variant(scc={"module": 2}),
        variant(tia=tia),
        variant(scc={"module": 3}, tia=tia),
        variant(scc={"module": 2}, tia={"outcome": NEM}),
        variant("US", certifications=(DPF,), tia=tia),
        variant("US"),
        variant("DE"),
        variant("JP"),
        variant("CH", tia={"outcome": NEM}),
        variant("SG"),
        variant(role="controller", scc={"module": 1}, tia=tia),
        variant(role="controller"),
    ]


def verify(engine: Any, peers: list[Peer]) -> int:
    """Assert every available peer answers like doorgifte on every variant; return the count."""
    for payload in variants():
        expected = doorgifte_projection(engine.evaluate(payload, today=TODAY).model_dump(mode="json"))
        for peer in peers:
            if peer.decide is not None:
                got = project(peer.decide(flat(payload)))
                assert got == expected, f"{peer.name} disagrees on {flat(payload)}: {got} != {expected}"
    return len(variants())


def candidates(peers: list[Peer]) -> dict[str, Callable[[], object]]:
    """The timed call per available peer: flat input (built once) -> verdict -> projection."""
    benchmark = flat(one_hop_third_country())

    def candidate(decide: Callable[[dict[str, Any]], Verdict]) -> Callable[[], object]:
        return lambda: project(decide(benchmark))

    return {f"peer/{p.name}": candidate(p.decide) for p in peers if p.decide is not None}
