"""YAML text -> plain Python documents plus the position of every value. Pure.

Parsing and composing run in ruamel.yaml's C extension (when installed); turning nodes into
values is done here, so positions come for free and hostile input is refused on the way:
only YAML's standard tags, no anchors or aliases (their expansion is how "billion laughs"
documents exhaust memory), no duplicate keys, bounded depth and size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import BaseConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import Position, Problem, SpecError

Path = tuple[str | int, ...]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 2_000_000

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


@dataclass(frozen=True)
class Document:
    """One YAML document of one file: its data and where each value and key stands."""

    file: str
    data: Any
    value_positions: dict[Path, Position]
    key_positions: dict[Path, Position]

    def position_of(self, path: Path, *, value: bool = False) -> Position:
        """The key's position if ``path`` ends in a key, else the nearest known ancestor's.

        With ``value``, the value's own position wins: a bad scalar is shown where it stands.
        """
        if value and path in self.value_positions:
            return self.value_positions[path]
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.key_positions:
                return self.key_positions[prefix]
            if prefix in self.value_positions:
                return self.value_positions[prefix]
        return Position(self.file, 1, 1)


def parse_documents(file: str, raw: bytes) -> list[Document]:
    """Parse every document of one file, or raise ``SpecError`` with the first problem."""
    text = _decode(file, raw)
    yaml = YAML(typ="safe")
    documents = []
    try:
        for root in yaml.compose_all(text):
            if root is not None:
                documents.append(_Builder(file, yaml.constructor).build(root))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise _error(
            Position(file, line, column), f"invalid YAML: {message}", "yaml-syntax"
        ) from None
    except YAMLError as exc:
        raise _error(Position(file, 1, 1), f"invalid YAML: {exc}", "yaml-syntax") from None
    return documents


def _decode(file: str, raw: bytes) -> str:
    start = Position(file, 1, 1)
    if len(raw) > MAX_FILE_BYTES:
        raise _error(
            start,
            f"file is {len(raw)} bytes, over the {MAX_FILE_BYTES}-byte limit",
            "file-too-large",
        )
    if b"\0" in raw:
        raise _error(start, "file holds NUL bytes: not a YAML text file", "binary-file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _error(Position(file, line, column), "file is not valid UTF-8", "encoding") from None


def _error(position: Position, message: str, rule: str) -> SpecError:
    return SpecError([Problem(position, "", message, rule)])


class _Builder:
    """Turns a composed node tree into plain values, recording positions."""

    def __init__(self, file: str, constructor: BaseConstructor) -> None:
        self.file = file
        self.constructor = constructor
        self.values: dict[Path, Position] = {}
        self.keys: dict[Path, Position] = {}
        self.seen: set[int] = set()

    def build(self, root: Node) -> Document:
        data = self._value(root, ())
        return Document(self.file, data, self.values, self.keys)

    def _position(self, node: Node) -> Position:
        return Position(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def _check(self, node: Node, path: Path) -> None:
        if id(node) in self.seen or getattr(node, "anchor", None):
            raise _error(self._position(node), "anchors and aliases are not allowed", "yaml-alias")
        self.seen.add(id(node))
        if len(self.seen) > MAX_NODES:
            raise _error(self._position(node), f"more than {MAX_NODES} YAML nodes", "yaml-size")
        if len(path) > MAX_DEPTH:
            raise _error(self._position(node), f"nested deeper than {MAX_DEPTH}", "yaml-depth")

    def _value(self, node: Node, path: Path) -> Any:
        self._check(node, path)
        self.values[path] = self._position(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _TAG + "seq":
                raise self._tag_error(node)
            return [self._value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        if node.tag != _TAG + "map":
            raise self._tag_error(node)
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            self._check(key_node, path)
            if not isinstance(key_node, ScalarNode):
                raise _error(self._position(key_node), "mapping keys must be scalars", "yaml-key")
            key = self._scalar(key_node)
            here = self._position(key_node)
            if key in first_seen:
                raise _error(
                    here,
                    f"duplicate key {key!r} (first defined at {first_seen[key]})",
                    "duplicate-key",
                )
            first_seen[key] = here
            self.keys[(*path, key)] = here
            result[key] = self._value(value_node, (*path, key))
        return result

    def _scalar(self, node: Node) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS or not isinstance(node, ScalarNode):
            raise self._tag_error(node)
        if tag in (_TAG + "str", _TAG + "timestamp"):
            return node.value
        if tag == _TAG + "null":
            return None
        return self.constructor.construct_object(node, deep=True)

    def _tag_error(self, node: Node) -> SpecError:
        return _error(
            self._position(node),
            f"tag {node.tag!r} is not allowed: only YAML's standard types are",
            "yaml-tag",
        )
