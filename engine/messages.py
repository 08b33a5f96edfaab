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


def variant(code: str, regime: str | None) -> str:
    """The catalogue key of a code's wording under a regime (`dpa.conclude@ch_fadp`)."""
    return f"{code}@{regime}" if regime else code


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

    def render(self, code: str, lang: str, values: dict[str, Any], regime: str | None = None) -> str:
        """The template filled in; only the values it names are turned into text. Under a regime
        whose law words a finding differently (a Swiss contract, not an Art. 28 agreement), the
        catalogue's `<code>@<regime>` template is used when there is one."""
        key = variant(code, regime)
        if key not in self.templates:
            key = code
        template = self.templates[key][lang]
        names = self._fields.get((key, lang))
        if names is None:
            names = self._fields[(key, lang)] = tuple(placeholders(template))
        text = template.format_map(_Dash({k: _text(values[k]) for k in names if k in values}))
        # a name ending in "." before the template's own full stop
        return _DOUBLE_STOP.sub(".", text) if ".." in text else text

    def merged(self, extra: dict[str, dict[str, str]]) -> Catalogue:
        return Catalogue({**self.templates, **extra})
