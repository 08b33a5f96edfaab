"""One Flask blueprint per resource of SPEC section 7."""

from __future__ import annotations

from flask import Flask

from service.resources import (
    countries,
    decisions,
    docs,
    health,
    plans,
    policies,
    regions,
    replays,
    vendors,
    vocabulary,
)
from service.resources import register as transfer_register  # the module; `register` is below


def register(app: Flask) -> None:
    for module in (
        decisions,
        countries,
        regions,
        policies,
        vocabulary,
        vendors,
        transfer_register,
        replays,
        plans,
        health,
        docs,
    ):
        app.register_blueprint(module.blueprint)
