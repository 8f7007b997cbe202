"""YAML text -> plain Python documents plus the position of every value. Pure.

Values are built here, one parser event at a time, instead of by ruamel.yaml's composer:
the C composer recurses once per nesting level and crashes the interpreter (SIGSEGV) on a
100 kB file of ``[[[[…``, and it builds the whole node tree before anything can be
counted. Reading events lets every limit act as soon as it is crossed, so hostile input
costs little time and memory before it is refused: only YAML 1.2's standard tags, no
directives (``%YAML 1.1`` would turn ``yes`` into a boolean), no anchors or aliases
(their expansion is how "billion laughs" documents exhaust memory), no duplicate keys,
bounded depth, node count and size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import BaseConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import BaseResolver, VersionedResolver

from reconciler.errors import Position, Problem, SpecError
from reconciler.fieldpath import format_path
from reconciler.spec.files import MAX_FILE_BYTES
from reconciler.spec.interpolation import InvalidTemplate, MissingRequired, substitute
from reconciler.spec.variables import Variables

Path = tuple[str | int, ...]

MAX_DEPTH = 32
MAX_NODES = 200_000

_TAG = "tag:yaml.org,2002:"
_STR, _NULL, _TIMESTAMP, _MERGE = (_TAG + t for t in ("str", "null", "timestamp", "merge"))
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_COLLECTION_TAGS = {MappingStartEvent: _TAG + "map", SequenceStartEvent: _TAG + "seq"}


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


def parse_documents(file: str, raw: bytes, variables: Variables | None = None) -> list[Document]:
    """Parse every document of one file, or raise ``SpecError`` with the first problem.

    With ``variables``, scalar values (not keys) are interpolated as Compose does, before
    their type is read: ``stop_timeout: ${TIMEOUT:-10}`` is the integer 10, while a quoted
    scalar stays a string.
    """
    text = _decode(file, raw)
    yaml = YAML(typ="safe")
    yaml.Resolver = _Yaml12Resolver
    builder = _Builder(file, text, yaml.resolver, yaml.constructor, variables)
    try:
        return builder.documents(yaml.parse(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        message += _flow_colon_hint(message, text, line, column)
        raise _error(
            Position(file, line, column), f"invalid YAML: {message}", "yaml-syntax"
        ) from None
    except ReaderError as exc:
        raise _error(
            _offset_position(file, text, exc.position),
            f"invalid YAML: character U+{_code_point(exc.character):04X} is not allowed "
            f"({exc.reason})",
            "yaml-syntax",
        ) from None
    except YAMLError as exc:
        raise _error(Position(file, 1, 1), f"invalid YAML: {exc}", "yaml-syntax") from None


def _flow_colon_hint(message: str, text: str, line: int, column: int) -> str:
    """``mounts: [data:/data]``: inside brackets a colon ends a plain scalar, so the
    parser's own words ("found unexpected ':'") say nothing a user can act on."""
    lines = text.splitlines()
    before = lines[line - 1][: column - 1] if line <= len(lines) else ""
    if "unexpected ':'" not in message or not {"[", "{"} & set(before):
        return ""
    return (
        '; inside [...] or {...} an item holding ":" must be quoted, e.g. '
        'mounts: ["data:/data"], or written as a "- data:/data" list'
    )


def _first_characters(resolver: BaseResolver) -> frozenset[str] | None:
    """The first characters an implicitly typed scalar can have, None if any can."""
    by_first = getattr(resolver, "versioned_resolver", None)
    if not isinstance(by_first, dict) or None in by_first:
        return None
    return frozenset(by_first)


class _Yaml12Resolver(VersionedResolver):
    """ruamel's resolver, told the YAML version once instead of asking for every scalar.

    With the C parser ruamel finds the version through two caught ``AttributeError``s per
    scalar, and always ends at its default, YAML 1.2 (``%YAML`` directives are refused
    anyway). Answering 1.2 directly keeps every result the same, at a fraction of the cost.
    """

    @property
    def processing_version(self) -> tuple[int, int]:
        return (1, 2)


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


def _offset_position(file: str, text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return Position(file, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _code_point(character: int | str) -> int:
    """The C reader reports the code point, the pure-Python one the character."""
    return character if isinstance(character, int) else ord(character)


def _error(position: Position, message: str, rule: str) -> SpecError:
    return SpecError([Problem(position, "", message, rule)])


_NO_KEY: Any = object()

_PLAIN_SCALARS: dict[tuple[str, tuple[bool, bool]], Any] = {}
"""Untagged scalars already typed: (text, implicit) -> value, each an immutable str, int,
float, bool or None. Bounded, as a long-running process reads many specs."""
_PLAIN_SCALARS_MAX = 4096


@dataclass
class _Open:
    """A mapping or sequence whose end event has not come yet."""

    path: Path
    value: dict[Any, Any] | list[Any]
    key: Any = _NO_KEY
    """In a mapping: the key just read, waiting for its value."""
    first_seen: dict[Any, Position] = field(default_factory=dict)


class _Builder:
    """Turns parser events into plain values, recording positions and enforcing limits."""

    def __init__(
        self,
        file: str,
        text: str,
        resolver: BaseResolver,
        constructor: BaseConstructor,
        variables: Variables | None = None,
    ) -> None:
        self.file = file
        self.variables = variables
        self.text = text
        self.resolver = resolver
        self.resolvable = _first_characters(resolver)
        self.constructor = constructor
        self.nodes = 0
        self.values: dict[Path, Position] = {}
        self.keys: dict[Path, Position] = {}
        self.root: Any = None
        self.stack: list[_Open] = []

    def documents(self, events: Iterable[Event]) -> list[Document]:
        documents = []
        for event in events:
            if isinstance(event, DocumentStartEvent):
                self._refuse_directives(event)
                documents.append(self._document(events))
        return documents

    def _document(self, events: Iterable[Event]) -> Document:
        self.values, self.keys, self.root, self.stack = {}, {}, None, []
        for event in events:
            if isinstance(event, DocumentEndEvent):
                break
            self._take(event)
        return Document(self.file, self.root, self.values, self.keys)

    def _take(self, event: Event) -> None:
        kind = type(event)
        if kind is MappingEndEvent or kind is SequenceEndEvent:
            self.stack.pop()
            return
        assert isinstance(event, NodeEvent)
        here = self._position(event)
        self._check(event, here)
        top = self.stack[-1] if self.stack else None
        if top is not None and top.key is _NO_KEY and isinstance(top.value, dict):
            self._key(top, event, here)
            return
        path = self._child_path(top)
        self.values[path] = here
        if kind is ScalarEvent:
            assert isinstance(event, ScalarEvent)
            self._attach(top, self._scalar(self._interpolated(event, path), here))
            return
        assert isinstance(event, CollectionStartEvent)
        opened = _Open(path, {} if kind is MappingStartEvent else [])
        self._attach(top, opened.value)
        self.stack.append(opened)

    def _check(self, event: NodeEvent, position: Position) -> None:
        if event.anchor is not None or isinstance(event, AliasEvent):
            raise _error(position, "anchors and aliases are not allowed", "yaml-alias")
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _error(position, f"more than {MAX_NODES} YAML nodes", "yaml-size")
        if len(self.stack) > MAX_DEPTH:
            raise _error(position, f"nested deeper than {MAX_DEPTH}", "yaml-depth")
        if (
            isinstance(event, CollectionStartEvent)
            and event.tag is not None
            and event.tag != _COLLECTION_TAGS[type(event)]
        ):
            raise self._tag_error(event, event.tag)

    def _key(self, mapping: _Open, event: NodeEvent, here: Position) -> None:
        if not isinstance(event, ScalarEvent):
            raise _error(here, "mapping keys must be scalars", "yaml-key")
        key = self._scalar(event, here)
        if key in mapping.first_seen:
            raise _error(
                here,
                f"duplicate key {key!r} (first defined at {mapping.first_seen[key]})",
                "duplicate-key",
            )
        mapping.first_seen[key] = here
        self.keys[(*mapping.path, key)] = here
        mapping.key = key

    def _child_path(self, parent: _Open | None) -> Path:
        if parent is None:
            return ()
        if isinstance(parent.value, list):
            return (*parent.path, len(parent.value))
        return (*parent.path, parent.key)

    def _attach(self, parent: _Open | None, value: Any) -> None:
        if parent is None:
            self.root = value
        elif isinstance(parent.value, list):
            parent.value.append(value)
        else:
            parent.value[parent.key] = value
            parent.key = _NO_KEY

    def _scalar(self, event: ScalarEvent, here: Position) -> Any:
        """The scalar's value, typed as YAML 1.2 reads it.

        An untagged scalar's value depends only on its text and style (``implicit``), and
        a spec repeats the same few texts (keys, ``true``, ``10``) thousands of times: each
        is typed by ruamel once per process (``_PLAIN_SCALARS``), a dictionary lookup after.
        """
        text, implicit = event.value, event.implicit
        if event.tag is None:
            resolvable = self.resolvable
            if implicit[0] and text and resolvable is not None and text[0] not in resolvable:
                return text  # most names and paths: a string, whatever follows
            known = _PLAIN_SCALARS.get((text, implicit), _NO_KEY)
            if known is not _NO_KEY:
                return known
            value = self._typed(event, here)
            if len(_PLAIN_SCALARS) < _PLAIN_SCALARS_MAX:
                _PLAIN_SCALARS[(text, implicit)] = value
            return value
        return self._typed(event, here)

    def _typed(self, event: ScalarEvent, here: Position) -> Any:
        if event.tag is None:
            tag = implied = self._implied_tag(event.value, event.implicit)
        else:  # an explicit standard tag must agree with what the value reads as untagged
            tag, implied = event.tag, self._implied_tag(event.value, (True, False))
        if tag not in _SCALAR_TAGS:
            raise self._tag_error(event, tag)
        if tag in (_STR, _TIMESTAMP):
            return event.value
        if tag != implied:
            raise _error(
                here, f"{event.value!r} is not a valid {tag.removeprefix(_TAG)}", "yaml-scalar"
            )
        if tag == _NULL:
            return None
        try:
            return self.constructor.construct_object(ScalarNode(tag, event.value), deep=True)
        except ValueError:  # an integer beyond Python's 4300-digit conversion limit
            raise _error(
                here, f"number too long to read ({len(event.value)} characters)", "yaml-scalar"
            ) from None

    def _interpolated(self, event: ScalarEvent, path: Path) -> ScalarEvent:
        """The event with its text interpolated, errors placed at the scalar."""
        variables = self.variables
        if variables is None or "$" not in event.value:
            return event
        position = self._position(event)
        try:
            value = substitute(event.value, lambda name: variables.lookup(name, position))
        except MissingRequired as exc:
            raise SpecError(
                [Problem(position, format_path(path), str(exc), "missing-variable")]
            ) from None
        except InvalidTemplate as exc:
            raise SpecError(
                [
                    Problem(
                        position,
                        format_path(path),
                        f"invalid interpolation {str(exc)!r}: write a literal $ as $$",
                        "invalid-interpolation",
                    )
                ]
            ) from None
        return ScalarEvent(
            event.anchor,
            event.tag,
            event.implicit,
            value,
            start_mark=event.start_mark,
            end_mark=event.end_mark,
            style=event.style,
        )

    def _implied_tag(self, value: str, implicit: tuple[bool, bool]) -> str:
        return str(self.resolver.resolve(ScalarNode, value, implicit))

    def _refuse_directives(self, event: DocumentStartEvent) -> None:
        if event.version is None and not event.tags:
            return
        line = next(
            (
                number
                for number, text in enumerate(self.text.splitlines()[: event.start_mark.line], 1)
                if text.startswith("%")
            ),
            event.start_mark.line + 1,
        )
        raise _error(
            Position(self.file, line, 1),
            "YAML directives (%YAML, %TAG) are not allowed: specs are read as YAML 1.2",
            "yaml-directive",
        )

    def _position(self, event: Event) -> Position:
        return Position(self.file, event.start_mark.line + 1, event.start_mark.column + 1)

    def _tag_error(self, event: NodeEvent, tag: str | None) -> SpecError:
        if tag == _MERGE:
            return _error(self._position(event), "merge keys ('<<') are not allowed", "yaml-tag")
        return _error(
            self._position(event),
            f"tag {tag!r} is not allowed: only YAML's standard types are",
            "yaml-tag",
        )
