"""Hypothesis strategies: valid volplan specs as data, and ways to damage their text."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from reconciler.labels import PREFIX as RESERVED_PREFIX

names = st.from_regex(r"[a-z0-9][a-z0-9_.-]{1,12}", fullmatch=True)
label_keys = st.from_regex(r"[a-z][a-z0-9.-]{0,10}", fullmatch=True).filter(
    lambda key: not key.startswith(RESERVED_PREFIX)
)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
labels = st.dictionaries(label_keys, texts, max_size=3)
YAML_PIECES = [
    *"{}[]:,-&*!|>'\"#%@`?~ \n\t",
    "<<",
    "---",
    "...",
    "!!python/name:os",
    "&a",
    "*a",
]


@st.composite
def volume_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        spec["labels"] = draw(labels)
    if draw(st.booleans()):
        spec["driver_opts"] = {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    return spec


@st.composite
def container_specs(
    draw: st.DrawFn, index: int, volumes: list[str], earlier: list[str]
) -> dict[str, Any]:
    """One container; its mount targets live under /c<index>, so inherited ones never clash."""
    spec: dict[str, Any] = {"image": "busybox", "network_mode": "none"}
    mounts: list[Any] = []
    for number in range(draw(st.integers(0, 3))):
        target = f"/c{index}/m{number}"
        kind = draw(
            st.sampled_from(["volume", "anonymous", "bind"] if volumes else ["anonymous", "bind"])
        )
        read_only = draw(st.booleans())
        if kind == "volume":
            mounts.append(f"{draw(st.sampled_from(volumes))}:{target}{':ro' if read_only else ''}")
        elif kind == "anonymous":
            mounts.append(target)
        else:
            source = f"/srv/{draw(names)}"
            mounts.append(
                {"type": "bind", "source": source, "target": target, "read_only": read_only}
            )
    if mounts:
        spec["mounts"] = mounts
    # One source at most: two sources sharing an ancestor would inherit its targets twice.
    sources = draw(st.lists(st.sampled_from(earlier), max_size=1)) if earlier else []
    if sources:
        spec["volumes_from"] = [f"{s}{draw(st.sampled_from(['', ':ro', ':rw']))}" for s in sources]
    if draw(st.booleans()):
        spec["command"] = draw(st.lists(texts, min_size=1, max_size=3))
    if draw(st.booleans()):
        spec["environment"] = draw(st.dictionaries(label_keys, texts, max_size=2))
    if draw(st.booleans()):
        spec["labels"] = draw(labels)
    spec["state"] = draw(st.sampled_from(["created", "running"]))
    return spec


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    volume_names = draw(st.lists(names, unique=True, max_size=3))
    container_names = draw(st.lists(names, unique=True, max_size=4))
    containers: dict[str, Any] = {}
    for index, name in enumerate(container_names):
        containers[name] = draw(container_specs(index, volume_names, container_names[:index]))
    return {
        "version": 1,
        "project": draw(names),
        "volumes": {name: draw(volume_specs()) for name in volume_names},
        "containers": containers,
    }


def as_yaml(spec: dict[str, Any], indent: int | None) -> str:
    """JSON is YAML 1.2; with an indent it is block-shaped enough to cover positions. Values
    are interpolated (``${VAR}``), so a literal ``$`` in one is written ``$$``."""
    return json.dumps(_literal(spec), indent=indent, ensure_ascii=False) + "\n"


def _literal(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [_literal(item) for item in value]
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    return value


@st.composite
def damaged(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters deleted, inserted or replaced by YAML-significant ones."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(YAML_PIECES) | texts)
        cut = draw(st.integers(0, 3))
        text = text[:at] + piece + text[at + cut :]
    return text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)
