"""Versioned configuration documents written in YAML and validated with line numbers.

The SLA and the scoring rules are documents people edit by hand. A mistake must be
refused with the line it is on and the reason, so parsing keeps a map from each value's
path (e.g. ``("sales", "first_touch", 0, "hours")``) to its line in the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class DocumentError:
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "document"
        return f"{where}: {self.path + ': ' if self.path else ''}{self.message}"


class InvalidDocument(ValueError):
    """Raise with every problem found, each with its line and reason."""

    def __init__(self, errors: list[DocumentError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))


def _construct(node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, (*path, "<key>"), {})
            if key in result:
                raise InvalidDocument(
                    [DocumentError(key_node.start_mark.line + 1, _dotted((*path, key)), "duplicate key")]
                )
            result[key] = _construct(value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, index), lines) for index, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidDocument([DocumentError(node.start_mark.line + 1, "", problem)]) from None
    finally:
        loader.dispose()


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def parse(source: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML safely, returning the data and the line of every value."""
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidDocument([DocumentError(mark.line + 1 if mark else None, "", f"not valid YAML: {problem}")]) from None
    if node is None:
        raise InvalidDocument([DocumentError(None, "", "the document is empty")])
    lines: dict[Path, int] = {}
    return _construct(node, (), lines), lines


def validate[M: BaseModel](source: str, model: type[M]) -> M:
    """Parse and validate a document against a pydantic model, raising InvalidDocument with lines."""
    data, lines = parse(source)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            path = tuple(part for part in item["loc"] if not (isinstance(part, str) and "[" in part))
            line = None
            probe = path
            while probe and line is None:
                line = lines.get(probe)
                probe = probe[:-1]
            if line is None:
                line = lines.get(())
            message = item["msg"]
            if item["type"] == "extra_forbidden":
                message = "unknown setting"
            elif item["type"] == "missing":
                message = "required setting is missing"
            problems.append(DocumentError(line, _dotted(path), message))
        raise InvalidDocument(problems) from None


class StrictDocument(BaseModel):
    """A document section that refuses keys it doesn't know (a typo is an error, not a no-op)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def known[T](values: T, allowed: tuple[str, ...], what: str) -> T:
    """Return the values (a list, or a mapping's keys) when each is allowed; name the others."""
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValueError(
            f"unknown {what} {', '.join(repr(u) for u in unknown)}; "
            f"use one of {', '.join(repr(a) for a in allowed)}"
        )
    return values
