"""Configuration from DOORGIFTE_* environment variables: defaults, parsing, refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.api import MAX_DEPTH, MAX_LOCATIONS, MAX_NODES, Limits
from service.config import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LOCATIONS, DEFAULT_MAX_NODES, Config, ConfigError


def test_defaults():
    config = Config.from_env({})
    assert config.db == "var/decisions.sqlite3" and not config.uses_postgres
    assert config.max_body == 1_048_576
    assert config.max_batch == 1000
    assert config.eval_timeout == 10.0
    assert config.log_level == "INFO"
    assert config.policy_path == ()
    assert (config.max_depth, config.max_nodes) == (10, 200)
    assert config.limits == Limits()  # the engine's own defaults


def test_the_chain_limits_are_the_engines():
    assert (DEFAULT_MAX_DEPTH, DEFAULT_MAX_NODES, DEFAULT_MAX_LOCATIONS) == (
        MAX_DEPTH,
        MAX_NODES,
        MAX_LOCATIONS,
    )


def test_every_variable_is_read():
    env = {
        "DOORGIFTE_DB": "postgresql://user@127.0.0.1:5432/log",
        "DOORGIFTE_MAX_BODY": "2048",
        "DOORGIFTE_LOG_LEVEL": "debug",
        "DOORGIFTE_POLICY_PATH": os.pathsep.join(["/etc/doorgifte/policies", "", "/srv/more"]),
        "DOORGIFTE_MAX_BATCH": "10",
        "DOORGIFTE_EVAL_TIMEOUT": "2.5",
        "DOORGIFTE_MAX_DEPTH": "3",
        "DOORGIFTE_MAX_NODES": "7",
        "DOORGIFTE_MAX_LOCATIONS": "20",
    }
    config = Config.from_env(env)
    assert config.uses_postgres
    assert (config.max_body, config.max_batch, config.eval_timeout) == (2048, 10, 2.5)
    assert config.limits == Limits(max_depth=3, max_nodes=7, max_locations=20)
    assert config.log_level == "DEBUG"
    assert config.policy_path == (Path("/etc/doorgifte/policies"), Path("/srv/more"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DOORGIFTE_MAX_BODY", "1MiB"),
        ("DOORGIFTE_MAX_BODY", "0"),
        ("DOORGIFTE_MAX_BATCH", "-1"),
        ("DOORGIFTE_EVAL_TIMEOUT", "soon"),
        ("DOORGIFTE_EVAL_TIMEOUT", "0"),
        ("DOORGIFTE_EVAL_TIMEOUT", "inf"),
        ("DOORGIFTE_EVAL_TIMEOUT", "nan"),
        ("DOORGIFTE_LOG_LEVEL", "chatty"),
        ("DOORGIFTE_MAX_DEPTH", "0"),
        ("DOORGIFTE_MAX_LOCATIONS", "0"),
        ("DOORGIFTE_MAX_DEPTH", "ten"),
        ("DOORGIFTE_MAX_NODES", "-5"),
        ("DOORGIFTE_MAX_NODES", "2.5"),
        ("DOORGIFTE_SESSION_KEY", "short"),
        ("DOORGIFTE_PROXY_HOPS", "-1"),
        ("DOORGIFTE_PROXY_HOPS", "one"),
    ],
)
def test_unusable_values_are_refused_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_blank_values_mean_the_default():
    assert Config.from_env({"DOORGIFTE_DB": "  ", "DOORGIFTE_MAX_BODY": ""}) == Config()


def test_the_session_key_and_proxy_hops():
    key = "k" * 40
    config = Config.from_env({"DOORGIFTE_SESSION_KEY": key, "DOORGIFTE_PROXY_HOPS": "2"})
    assert config.session_key == key.encode() and config.proxy_hops == 2
    assert Config.from_env({"DOORGIFTE_PROXY_HOPS": "0"}).proxy_hops == 0 == Config.from_env({}).proxy_hops
    first, second = Config.from_env({}), Config.from_env({})
    assert len(first.session_key) == 32 and first.session_key != second.session_key  # random per start
    assert "session_key" not in repr(first)  # never printed


@pytest.mark.parametrize(("cores", "workers", "helpers"), [(2, 1, 1), (2, 2, 0), (1, 1, 0), (8, 2, 1)])
def test_a_batch_helper_by_default_only_on_a_core_the_workers_leave(monkeypatch, cores, workers, helpers):
    from service.config import default_batch_processes

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert default_batch_processes(workers) == helpers


def test_serve_sizes_the_batch_helpers_for_its_workers_unless_told(monkeypatch, tmp_path):
    from service import cli, server

    seen: list[int] = []
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(server, "serve", lambda config, *args: seen.append(config.batch_processes) or 0)
    monkeypatch.setattr(cli, "_validate_rule_base", lambda config: None)
    monkeypatch.setattr("service.jsonlog.configure", lambda level: None)
    monkeypatch.delenv("DOORGIFTE_BATCH_PROCESSES", raising=False)
    monkeypatch.setenv("DOORGIFTE_DB", str(tmp_path / "decisions.sqlite3"))
    for workers in ("1", "2"):
        assert cli.main(["serve", "--port", "1", "--workers", workers]) == 0
    monkeypatch.setenv("DOORGIFTE_BATCH_PROCESSES", "1")
    assert cli.main(["serve", "--port", "1", "--workers", "2"]) == 0
    assert seen == [1, 0, 1]
