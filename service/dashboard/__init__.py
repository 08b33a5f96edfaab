"""The compliance dashboard (SPEC section 13): server-rendered pages over the decision log."""

from __future__ import annotations

from flask import Flask

from service.dashboard import auth, pages, scenarios  # noqa: F401  (their routes join the blueprint)
from service.dashboard.render import blueprint


def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
