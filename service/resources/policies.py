"""`/v1/policies`: the loaded policy profiles with their versions, settings and rules."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engine.loader import Profile
from service import lookup, params
from service.access import ANY_TOKEN, requires
from service.openapi import describe
from service.schemas import PolicyList, PolicyOut
from service.state import current

blueprint = Blueprint("policies", __name__)


@blueprint.get("/v1/policies")
@requires(ANY_TOKEN)
@describe("Policy profiles", {200: PolicyList})
def policies() -> Response:
    """Every loaded profile (shipped and from DOORGIFTE_POLICY_PATH), with its version (which
    changes with any change to its rules, settings or messages) and every rule it applies."""
    params.check_args(())
    profiles = current().engine.policies.profiles
    return jsonify({"policies": [profile_json(p) for p in profiles.values()]})


@blueprint.get("/v1/policies/<policy_id>")
@requires(ANY_TOKEN)
@describe("One policy profile", {200: PolicyOut}, errors=("not_found",))
def policy(policy_id: str) -> Response:
    """One profile by id, or a combination (`eu-residency+nl-gov`, `nl-gov,eu-residency`) with
    the rules and conclusions it applies; unknown ids are 404 with a did-you-mean hint."""
    params.check_args(())
    engine = current().engine
    try:
        found = lookup.policy(engine, policy_id, "policy_id")
    except lookup.Unknown as exc:
        raise params.not_found(exc) from None
    profile, _ = engine.profile(found)
    assert profile is not None  # lookup.policy resolved it
    return jsonify(profile_json(profile))


def profile_json(profile: Profile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "version": profile.version,
        "title": profile.title,
        "description": profile.description,
        "extends": profile.extends,
        "settings": profile.settings.model_dump(mode="json"),
        "rules": [
            {
                "id": rule.id,
                "title": rule.title,
                "scope": rule.scope,
                "basis": list(rule.basis),
                "effect": rule.then.effect,
                "code": rule.then.code,
                "assume": list(rule.then.assume),
                "actor": rule.then.actor,
                "note": rule.note,
            }
            for rule in profile.rules
        ],
        "conclusions": [
            {
                "id": c.id,
                "title": c.title,
                "scope": c.scope,
                "basis": list(c.basis),
                "when": c.when,
                "note": c.note,
            }
            for c in profile.conclusions
        ],
    }
