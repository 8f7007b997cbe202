"""Render DOT with Graphviz's own ``dot -Tsvg`` and read back what it drew."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Drawn:
    """An SVG's nodes (title -> their text lines and fill colour) and edges (title pairs,
    with their labels)."""

    nodes: dict[str, list[str]] = field(default_factory=dict)
    fills: dict[str, str] = field(default_factory=dict)
    edges: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def require_dot() -> str:
    """The ``dot`` program; a missing one fails in CI (scripts/lib.sh installs graphviz)."""
    found = shutil.which("dot")
    if found is None:
        message = "Graphviz's dot is missing: install Debian's graphviz (scripts/test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(f"{message}; skipped outside CI only")
    return found


def render_svg(dot_text: str) -> Drawn:
    """``dot -Tsvg`` of the text; a syntax error in it fails here, with Graphviz's message."""
    done = subprocess.run(
        [require_dot(), "-Tsvg"], input=dot_text, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    assert "Error" not in done.stderr, done.stderr
    return read_svg(done.stdout)


def read_svg(svg: str) -> Drawn:
    drawn = Drawn()
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title") or ""
        texts = [t.text or "" for t in group.iter(f"{SVG}text")]
        if group.get("class") == "node":
            drawn.nodes[title] = texts
            shape = next((e for e in group if e.tag in {f"{SVG}polygon", f"{SVG}path"}), None)
            drawn.fills[title] = shape.get("fill", "") if shape is not None else ""
        elif group.get("class") == "edge":
            source, _, target = title.partition("->")
            drawn.edges[(source, target)] = texts
    return drawn
