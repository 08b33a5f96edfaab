"""YAML files with line numbers, so that every load problem names file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from engine.errors import LoadProblem

Path_ = tuple[str | int, ...]


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping key and list item."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.lines: dict[int, dict[str | int, int]] = {}


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    data: dict[Any, Any] = {}
    yield data
    data.update(loader.construct_mapping(node))
    lines: dict[str | int, int] = {"": node.start_mark.line + 1}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode):
            lines.setdefault(key.value, key.start_mark.line + 1)
    loader.lines[id(data)] = lines


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Any:
    data: list[Any] = []
    yield data
    data.extend(loader.construct_sequence(node))
    lines: dict[str | int, int] = {i: item.start_mark.line + 1 for i, item in enumerate(node.value)}
    lines[""] = node.start_mark.line + 1
    loader.lines[id(data)] = lines


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


class YamlDoc:
    """A parsed YAML file and a way to find the line of any path inside it."""

    def __init__(self, path: Path):
        self.path = path
        text = path.read_text(encoding="utf-8")
        loader = _LineLoader(text)
        try:
            self.data = loader.get_single_data()
        finally:
            loader.dispose()
        self._lines = loader.lines

    def line(self, loc: Path_) -> int | None:
        """The line of the deepest part of `loc` that exists in the file."""
        node: Any = self.data
        found = self._lines.get(id(node), {}).get("")
        for part in loc:
            lines = self._lines.get(id(node))
            if lines is None or part not in lines:
                break
            found = lines[part]
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        return found

    def problem(self, loc: Path_, msg: str) -> LoadProblem:
        return LoadProblem(str(self.path), self.line(loc), msg)

    def validate(self, model: type[BaseModel], data: Any = None, base: Path_ = ()) -> Any:
        """Parse into `model`; raise a list of problems with lines on failure."""
        try:
            return model.model_validate(self.data if data is None else data)
        except ValidationError as exc:
            raise LoadProblems(
                [
                    self.problem(base + tuple(err["loc"]), f"{_dotted(err['loc'])}: {err['msg']}")
                    for err in exc.errors()
                ]
            ) from None


class LoadProblems(Exception):
    def __init__(self, problems: list[LoadProblem]):
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


def _dotted(loc: Any) -> str:
    return ".".join(str(p) for p in loc) or "(file)"


def read(path: Path) -> YamlDoc:
    """Read a YAML file; a syntax error becomes a problem with its line."""
    try:
        return YamlDoc(path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise LoadProblems([LoadProblem(str(path), line, f"YAML syntax: {exc.problem or exc}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadProblems([LoadProblem(str(path), None, f"cannot read: {exc}")]) from None
