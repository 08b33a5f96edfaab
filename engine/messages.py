"""Messages for finding and assumption codes, per language, from a catalogue.

Templates use `{name}` placeholders filled from the finding's params and its
context (`party`, `location`). Lists read as comma-separated text and a missing
value as a dash, so a message never fails on an absent optional fact.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
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


class _Dash(dict[str, str]):
    """A missing value reads as a dash, never as an error."""

    def __missing__(self, key: str) -> str:
        return "-"


@dataclass
class Catalogue:
    """code -> language -> template."""

    templates: dict[str, dict[str, str]]
    _fields: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, repr=False)

    def render(self, code: str, lang: str, values: dict[str, Any]) -> str:
        """The template filled in; only the values it names are turned into text."""
        template = self.templates[code][lang]
        names = self._fields.get((code, lang))
        if names is None:
            names = self._fields[(code, lang)] = tuple(placeholders(template))
        text = template.format_map(_Dash({k: _text(values[k]) for k in names if k in values}))
        # a name ending in "." before the template's own full stop
        return _DOUBLE_STOP.sub(".", text) if ".." in text else text

    def merged(self, extra: dict[str, dict[str, str]]) -> Catalogue:
        return Catalogue({**self.templates, **extra})
