"""The Flask app factory: `create_app(config)`.

The engine is loaded (and so every policy and data file validated) when the app
is created; a broken rule base stops the start-up with `LoadError`. The decision
log is opened lazily and checked once here: when it cannot be used the app still
starts, so that `GET /readyz` can say why (503), while every decision request
answers 503 and nothing is decided unlogged.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.api import Engine
from engine.errors import Problem
from service import access, dashboard, errors, resources, sessions
from service.batch_pool import BatchPool
from service.config import Config
from service.deciding import Decider
from service.decision_log import DecisionLog, LogUnavailable, open_log
from service.errors import ProblemError
from service.metrics import Metrics
from service.state import KEY, Service

request_log = logging.getLogger("doorgifte.request")
#: `<converter:name>` in a route template; labels and logs show `<name>` only
CONVERTER = re.compile(r"<[^:>]+:([^>]+)>")
#: a caller's X-Request-Id is kept only in this form (SPEC section 10); anything else is a 400
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def create_app(
    config: Config | None = None, engine: Engine | None = None, decision_log: DecisionLog | None = None
) -> Flask:
    """An app for `config` (default: from the environment).

    `engine` and `decision_log` may be passed in to share an already loaded engine
    (tests, one process serving several apps); by default they are created here.
    """
    config = config or Config.from_env()
    engine = engine or config.engine()
    decision_log = decision_log or open_log(config.db)
    metrics = Metrics()
    app = Flask("service", static_folder=None)  # no static files: every route is one of ours
    # werkzeug's own guard, one byte above the limit: body.read_json reads one byte past
    # DOORGIFTE_MAX_BODY to tell a body at the limit from a longer one, and werkzeug refuses any
    # read past MAX_CONTENT_LENGTH (on servers that terminate the input, such as gunicorn) even
    # when the body ends exactly there, which would refuse a body of exactly the limit
    app.config["MAX_CONTENT_LENGTH"] = config.max_body + 1
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    decision_log.on_commit = metrics.commit_hook(decision_log.backend)
    decider = Decider(engine, decision_log, metrics, config.eval_timeout)
    decider.pool = BatchPool.for_service(config, engine)
    app.extensions[KEY] = Service(config, engine, decision_log, metrics, decider)
    errors.register(app)
    resources.register(app)
    dashboard.register(app)
    sessions.install(app, config.session_key)
    if config.proxy_hops:  # X-Forwarded-Proto/-Host/-For of that many proxies (Secure cookies behind TLS)
        n = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    _register_request_log(app, metrics)
    access.register(app)  # after the request id is set, so a 401 or 403 carries and logs it
    _check_log(decision_log)
    return app


def _check_log(decision_log: DecisionLog) -> None:
    try:
        decision_log.check()
    except LogUnavailable as exc:
        request_log.error(
            "decision log unavailable at start-up; not ready", extra={"fields": {"error": str(exc)}}
        )


def _register_request_log(app: Flask, metrics: Metrics) -> None:
    """One JSON log line and one latency observation per request, with its request id.

    Per request this is the only work besides the route's own, so what repeats is made once:
    the route template shown for a rule (`<name>` for `<converter:name>`), and the latency
    histogram's child for each (endpoint, method, status), which prometheus_client would look
    up by its labels on every request."""
    templates: dict[str, str] = {}
    observers: dict[tuple[str, str, int], Any] = {}
    requests_histogram = metrics.requests

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.request_id = str(uuid.uuid4())
        given = request.headers.get("X-Request-Id")
        if given is not None:
            if not REQUEST_ID.fullmatch(given):
                msg = "X-Request-Id is 1 to 128 characters of A-Z, a-z, 0-9 and . _ : -"
                raise ProblemError("bad_request", msg, [Problem("header X-Request-Id", msg, "send a UUID")])
            g.request_id = given

    @app.after_request
    def _finish(response: Response) -> Response:
        now = time.perf_counter()
        context = g._get_current_object()  # type: ignore[attr-defined]
        elapsed = now - getattr(context, "started", now)
        req = request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule
        if rule is None:
            endpoint = "(unmatched)"
        else:
            endpoint = templates.get(rule.rule) or templates.setdefault(
                rule.rule, CONVERTER.sub(r"<\1>", rule.rule)
            )
        method, status = req.method, response.status_code
        key = (endpoint, method, status)
        observe = observers.get(key)
        if observe is None:
            observe = observers[key] = requests_histogram.labels(endpoint, method, str(status)).observe
        observe(elapsed)
        request_id = getattr(context, "request_id", None) or str(uuid.uuid4())
        response.headers["X-Request-Id"] = request_id
        if not request_log.isEnabledFor(logging.INFO):
            return response
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": method,
            "path": req.path,
            "endpoint": endpoint,
            "status": status,
            "duration_ms": round(elapsed * 1000, 3),
        }
        ids = getattr(context, "decision_ids", None)
        if ids:
            if len(ids) == 1:
                fields["decision_id"] = ids[0]
            else:
                fields["decision_ids"] = ids
        token_name = access.principal_name()
        if token_name is not None:  # the token's name; the token itself is never logged
            fields["token"] = token_name
        for name in ("error_code", "error_id"):
            value = getattr(context, name, None)
            if value:
                fields[name] = value
        request_log.info("request", extra={"fields": fields})
        return response
