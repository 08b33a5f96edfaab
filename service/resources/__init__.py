"""One Flask blueprint per resource of SPEC section 7."""

from __future__ import annotations

from flask import Flask

from service.resources import countries, decisions, docs, health, policies, regions, vendors, vocabulary


def register(app: Flask) -> None:
    for module in (decisions, countries, regions, policies, vocabulary, vendors, health, docs):
        app.register_blueprint(module.blueprint)
