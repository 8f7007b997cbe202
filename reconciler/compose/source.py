"""Compose files -> plain data that remembers where each value was written.

Compose files use YAML features volplan's own specs refuse (anchors, aliases and ``<<``
merge keys, for shared service fragments), so they are read with ruamel.yaml's own
round-trip loader, whose nodes know their line and column, and copied into ``Tree`` and
``Items``: a dict and a list that keep each key's and item's ``Position`` through the
merge of several files. Every string value is interpolated as Compose does (its ``${VAR}``
rules, ``spec/interpolation.py``), keys never.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler.errors import Position, Problem, SpecError
from reconciler.spec.files import MAX_FILE_BYTES
from reconciler.spec.interpolation import InvalidTemplate, MissingRequired, substitute
from reconciler.spec.variables import Variables


class Tree(dict[str, Any]):
    """A mapping of a Compose file, with where it and each of its keys stand."""

    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position
        self.positions: dict[str, Position] = {}

    def at(self, key: str) -> Position:
        return self.positions.get(key, self.position)


class Items(list[Any]):
    """A sequence of a Compose file, with where it and each of its items stand."""

    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position
        self.positions: list[Position] = []

    def add(self, value: Any, position: Position) -> None:
        self.append(value)
        self.positions.append(position)

    def at(self, index: int) -> Position:
        return self.positions[index] if index < len(self.positions) else self.position


def read_compose_file(file: str, raw: bytes, variables: Variables) -> Tree:
    """One Compose file's top-level mapping, interpolated; ``SpecError`` if it is not one."""
    if len(raw) > MAX_FILE_BYTES:
        raise _error(Position(file, 1, 1), f"the file is over the {MAX_FILE_BYTES}-byte limit")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _error(Position(file, 1, 1), "the file is not valid UTF-8") from None
    yaml = YAML(typ="rt", pure=True)
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1)
        raise _error(where, f"not valid YAML: {exc.problem or exc.context}") from None
    except YAMLError as exc:
        raise _error(Position(file, 1, 1), f"not valid YAML: {exc}") from None
    if not isinstance(data, CommentedMap):
        raise _error(Position(file, 1, 1), "a Compose file is a mapping (services:, volumes:…)")
    problems: list[Problem] = []
    tree = _copy(data, Position(file, 1, 1), _Context(file, variables, problems))
    if problems:
        raise SpecError(problems)
    assert isinstance(tree, Tree)
    return tree


class _Context:
    def __init__(self, file: str, variables: Variables, problems: list[Problem]) -> None:
        self.file = file
        self.variables = variables
        self.problems = problems

    def position(self, line_column: tuple[int, int] | None, default: Position) -> Position:
        if line_column is None:
            return default
        return Position(self.file, line_column[0] + 1, line_column[1] + 1)


def _copy(value: Any, position: Position, context: _Context) -> Any:
    if isinstance(value, CommentedMap):
        tree = Tree(position)
        for key, item in value.items():
            at = context.position(_key_position(value, key), position)
            if not isinstance(key, str):
                context.problems.append(Problem(at, "", f"key {key!r} is not a string", "key"))
                continue
            tree[key] = _copy(item, at, context)
            tree.positions[key] = at
        return tree
    if isinstance(value, CommentedSeq):
        items = Items(position)
        for index, item in enumerate(value):
            at = context.position(_item_position(value, index), position)
            items.add(_copy(item, at, context), at)
        return items
    if isinstance(value, str):
        return _interpolated(str(value), position, context)
    return value


def _key_position(mapping: CommentedMap, key: Any) -> tuple[int, int] | None:
    """ruamel's line and column of ``key``; None for a key brought in by a ``<<`` merge."""
    try:
        line, column = mapping.lc.key(key)
    except (KeyError, TypeError):
        return None
    return int(line), int(column)


def _item_position(sequence: CommentedSeq, index: int) -> tuple[int, int] | None:
    try:
        line, column = sequence.lc.item(index)
    except (KeyError, TypeError, IndexError):
        return None
    return int(line), int(column)


def _interpolated(text: str, position: Position, context: _Context) -> str:
    try:
        return substitute(text, lambda name: context.variables.lookup(name, position))
    except MissingRequired as exc:
        context.problems.append(Problem(position, "", str(exc), "missing-variable"))
    except InvalidTemplate:
        context.problems.append(
            Problem(position, "", f"invalid variable reference in {text!r}", "invalid-template")
        )
    return text


def _error(position: Position, message: str) -> SpecError:
    return SpecError([Problem(position, "", message, "compose-file")])
