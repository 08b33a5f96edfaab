"""`/v1/vocabulary`: every id list of the contract (categories, subjects, clauses, codes...)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from engine import vocabulary
from service import params
from service.access import ANY_TOKEN, requires
from service.openapi import describe
from service.schemas import Vocabulary

blueprint = Blueprint("vocabulary", __name__)


@blueprint.get("/v1/vocabulary")
@requires(ANY_TOKEN)
@describe("Every id list", {200: Vocabulary})
def ids() -> Response:
    """Data categories (ordinary, special, criminal), data subjects, DPA clause ids, condition
    and denial codes, derogations, certifications, roles, sectors, providers, zones, languages."""
    params.check_args(())
    return jsonify(vocabulary.as_dict())
