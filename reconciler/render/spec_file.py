"""Spec documents -> the text of a spec file: YAML with comments, as a person would keep it. Pure.

Written specs (``volplan import compose``, ``volplan export``) are meant to be read,
reviewed and edited, then loaded back by the loader; so the text is deterministic (the
same document gives the same bytes), each spec key comes in the order of the schema's
fields (``version``, ``project`` first; ``image`` first in a container), every string
value has its ``$`` written ``$$`` (the loader interpolates values, and a written spec
holds values as they are meant, already interpolated; an ``interpolation.Template`` is
the exception, written as it is), and comments say where an item
came from. The first line is the ``yaml-language-server`` modeline that points editors
at the spec's JSON Schema.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from reconciler.spec.interpolation import Template
from reconciler.spec.json_schema import SCHEMA_FILE_NAME
from reconciler.spec.schema import (
    ContainerSpec,
    HealthcheckSpec,
    MountSpec,
    SpecDocument,
    VolumeSpec,
)

SCHEMA_URL = SCHEMA_FILE_NAME
"""Where the modeline points editors by default: ``spec.schema.json`` beside the spec file
(json_schema.py writes it there; a relative ``$schema`` is resolved against the YAML
file); ``schema=`` overrides it per call."""

Path = tuple[str | int, ...]

_FIELD_ORDER: dict[Path, type[BaseModel]] = {
    (): SpecDocument,
    ("volumes", "*"): VolumeSpec,
    ("containers", "*"): ContainerSpec,
    ("containers", "*", "healthcheck"): HealthcheckSpec,
    ("containers", "*", "mounts", "*"): MountSpec,
}
"""Mappings whose keys are spec fields, put in their model's order (``*``: any name)."""


def modeline(schema: str = SCHEMA_URL) -> str:
    return f"# yaml-language-server: $schema={schema}"


def render_spec_file(
    documents: Sequence[Mapping[str, Any]],
    *,
    comments: Sequence[Mapping[Path, str]] = (),
    header: Sequence[str] = (),
    schema: str = SCHEMA_URL,
) -> str:
    """The spec file holding ``documents`` (plain data: dicts, lists, scalars), ``---`` apart.

    ``comments[i]`` maps a path in document ``i`` to a comment written at the end of that
    item's line: a key's path (``("containers", "web")``) comments the key, an index's
    path (``("containers", "web", "mounts", 0)``) the list item. ``header`` lines come as
    comments after the modeline. Volume and container names keep the caller's order.
    """
    lines = [modeline(schema), *(f"# {line}".rstrip() for line in header)]
    parts = []
    for index, document in enumerate(documents):
        notes = comments[index] if index < len(comments) else {}
        parts.append(_dump(_build(document, (), notes)))
    return "\n".join(lines) + "\n" + "---\n".join(parts)


def _dump(data: CommentedMap) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.width = 4096  # one value, one line: folded lines are hard to review in a diff
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _build(value: Any, path: Path, notes: Mapping[Path, str]) -> Any:
    if isinstance(value, Mapping):
        mapping = CommentedMap()
        for key in _ordered_keys(value, path):
            mapping[key] = _build(value[key], (*path, key), notes)
            if (*path, key) in notes:
                mapping.yaml_add_eol_comment(_comment(notes[(*path, key)]), key)
        return mapping
    if isinstance(value, list | tuple):
        sequence = CommentedSeq()
        for index, item in enumerate(value):
            built = _build(item, (*path, index), notes)
            sequence.append(built)
            if (*path, index) not in notes:
                continue
            comment = _comment(notes[(*path, index)])
            if isinstance(built, CommentedMap) and built:
                # on the item's first line: after "- key: value", not alone after "-"
                built.yaml_add_eol_comment(comment, next(iter(built)))
            else:
                sequence.yaml_add_eol_comment(comment, index)
        return sequence
    if isinstance(value, Template):
        return DoubleQuotedScalarString(value)  # quoted: an empty value stays a string
    if isinstance(value, str):
        escaped = value.replace("$", "$$")
        # double quotes escape every unprintable character (ruamel would fold a NEL, say)
        return escaped if escaped.isprintable() else DoubleQuotedScalarString(escaped)
    return value


def _ordered_keys(mapping: Mapping[str, Any], path: Path) -> list[str]:
    """The schema's field order where ``path`` holds a model, else the caller's order."""
    model = next(
        (m for pattern, m in _FIELD_ORDER.items() if _matches(pattern, path)),
        None,
    )
    if model is None:
        return list(mapping)
    order = {name: index for index, name in enumerate(model.model_fields)}
    return sorted(mapping, key=lambda key: order.get(key, len(order)))


def _matches(pattern: Path, path: Path) -> bool:
    return len(pattern) == len(path) and all(
        p in {"*", q} for p, q in zip(pattern, path, strict=True)
    )


def _comment(text: str) -> str:
    """One line of printable text: a comment cannot hold a line break (the rest would be
    read as YAML) nor a control character (YAML refuses those anywhere in a file)."""
    printable = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode()
        for c in " ".join(text.split())
    )
    return "# " + printable
