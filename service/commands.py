"""What every `doorgifte` subcommand shares: exit statuses, loading the engine, argument types.

The subcommand modules (vendor, replay, plan, guardrails) and `service.cli` import from here,
never from each other's parsers, so the command line has no import cycle. `load_engine` is the
one seam through which the tests hand every command the session's already loaded engine.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.api import Engine
    from service.config import Config

EXIT_OK = 0
EXIT_PROBLEMS = 1  # problems found, or an internal error
EXIT_USAGE = 2  # invalid input or usage
EXIT_DECISION = {"allow": 0, "conditions": 10, "deny": 20}


def load_engine(config: Config) -> Engine:
    return config.engine()


def positive(text: str) -> int:
    """A whole number above 0, as an argparse type."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return value
