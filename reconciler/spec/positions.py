"""Turning pydantic validation errors into ``Problem``s that point at file:line:column. Pure.

pydantic's ``loc`` mixes mapping keys, list indices and union tags; walking it through the
document's data keeps only the segments that really are keys or indices, and the nearest
ancestor stands in for a value that is missing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.errors import Problem
from reconciler.fieldpath import format_path
from reconciler.spec.schema import (
    ContainerSpec,
    HealthcheckSpec,
    MountSpec,
    SpecDocument,
    VolumeSpec,
)
from reconciler.spec.yaml_source import Document, Path

_RULES = {
    "extra_forbidden": "unknown-key",
    "missing": "missing-key",
    "string_pattern_mismatch": "invalid-name",
    "literal_error": "invalid-value",
    "value_error": "invalid-value",
    "greater_than_equal": "invalid-value",
}


ModelAt = Callable[[tuple[int | str, ...]], type[BaseModel] | None]
"""The model validating the mapping at a path, for "did you mean" suggestions."""


def problems_from_validation(
    document: Document, error: ValidationError, *, model_at: ModelAt | None = None
) -> list[Problem]:
    return [
        _problem(document, detail, model_at or _model_at)
        for detail in error.errors(include_url=False)
    ]


def _problem(document: Document, detail: ErrorDetails, model_at: ModelAt) -> Problem:
    path, value = _existing_path(document.data, detail["loc"])
    message = _message(detail)
    if detail["type"] == "extra_forbidden":
        message += _suggestion(detail["loc"], model_at)
    return Problem(
        document.position_of(path, value=_points_at_value(detail, value)),
        format_path(path if detail["type"] != "missing" else (*path, detail["loc"][-1])),
        message,
        _rule(detail),
    )


def _rule(detail: ErrorDetails) -> str:
    if _is_restart(detail):
        return "invalid-value"
    return _RULES.get(detail["type"], "wrong-type")


def _is_restart(detail: ErrorDetails) -> bool:
    """``restart`` is the one pattern-checked field that is not a name."""
    return detail["type"] == "string_pattern_mismatch" and detail["loc"][-1] == "restart"


def _existing_path(data: Any, loc: tuple[int | str, ...]) -> tuple[Path, Any]:
    """The part of ``loc`` that exists in the document, and the value found there."""
    path: list[str | int] = []
    for segment in loc:
        if _has_child(data, segment):
            data = data[segment]
            path.append(segment)
    return tuple(path), data


def _points_at_value(detail: ErrorDetails, value: Any) -> bool:
    """A bad scalar is shown where it stands; a bad key or mapping where its key stands."""
    return detail["type"] not in {"extra_forbidden", "missing"} and not isinstance(value, dict)


def _has_child(data: Any, segment: int | str) -> bool:
    if isinstance(data, dict):
        return segment in data
    return isinstance(data, list) and isinstance(segment, int) and 0 <= segment < len(data)


def _message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return f"unknown key {detail['loc'][-1]!r}"
    if kind == "missing":
        return f"required key {detail['loc'][-1]!r} is missing"
    if _is_restart(detail):
        return (
            f"{detail['input']!r} is not a restart policy: use no, always, unless-stopped, "
            "on-failure or on-failure:N (at most N restarts), as for docker run --restart"
        )
    if kind == "string_pattern_mismatch":
        return (
            f"{detail['input']!r} is not a valid name: it must start with a letter or digit and "
            "hold only letters, digits, '_', '.' and '-' (at least 2 characters)"
        )
    if kind in {"model_type", "dict_type"}:
        return f"expected a mapping, got {type(detail['input']).__name__}"
    message = detail["msg"].removeprefix("Value error, ")
    if kind == "string_type":
        message += f", got {detail['input']!r} (quote it in YAML)"
    return message


def _suggestion(loc: tuple[int | str, ...], model_at: ModelAt) -> str:
    model = model_at(loc[:-1])
    if model is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    keys = list(loc)
    if not keys:
        return SpecDocument
    if keys[0] == "volumes" and len(keys) == 2:
        return VolumeSpec
    if keys[0] == "containers" and len(keys) == 2:
        return ContainerSpec
    if keys[0] == "containers" and len(keys) == 4 and keys[2] == "mounts":
        return MountSpec
    if keys[0] == "containers" and len(keys) == 3 and keys[2] == "healthcheck":
        return HealthcheckSpec
    return None
