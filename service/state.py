"""What one app instance holds: configuration, engine, decision log, metrics.

Kept on `app.extensions` rather than in module globals, so that each app (and
each gunicorn worker, which creates its own) has its own engine and log
connections, and tests can run several apps side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:  # types only: the app's parts import this module, not the other way round
    from engine.api import Engine
    from service.config import Config
    from service.deciding import Decider
    from service.decision_log import DecisionLog
    from service.metrics import Metrics

KEY = "doorgifte"


@dataclass
class Service:
    config: Config
    engine: Engine
    log: DecisionLog
    metrics: Metrics
    decider: Decider
    cache: dict[str, Any] = field(default_factory=dict)


def current() -> Service:
    service: Service = current_app.extensions[KEY]
    return service
