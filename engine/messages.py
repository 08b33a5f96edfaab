"""Messages for finding and assumption codes, per language, from a catalogue.

Templates use `{name}` placeholders filled from the finding's params and its
context (`party`, `location`). Lists read as comma-separated text and a missing
value as a dash, so a message never fails on an absent optional fact.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

_FORMATTER = string.Formatter()
_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


def placeholders(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in _FORMATTER.parse(template) if name}


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "-"
    return str(value)


@dataclass
class Catalogue:
    """code -> language -> template."""

    templates: dict[str, dict[str, str]]

    def render(self, code: str, lang: str, values: dict[str, Any]) -> str:
        template = self.templates[code][lang]
        text = template.format_map({k: _text(v) for k, v in values.items()})
        return _DOUBLE_STOP.sub(".", text)  # a name ending in "." before the template's own stop

    def merged(self, extra: dict[str, dict[str, str]]) -> Catalogue:
        return Catalogue({**self.templates, **extra})
