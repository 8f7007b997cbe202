"""A topology graph (graph.py) as Graphviz DOT or as a Mermaid flowchart. Pure.

Node ids are plain identifiers already; every label is escaped for its language here,
so a bind path with quotes, backslashes, ``#`` or ``<`` draws as itself and cannot end a
string or open a tag. Shapes say what a node is (a box for a container, a cylinder for a
volume, dashed for an anonymous or image volume, a folder for a host path); a node the
plan changes is filled in its data-safety class's colour, and its label says the class
too, for a reader without colour.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.plan.actions import Safety
from reconciler.render.graph import Graph, Node, NodeKind

FILL = {
    Safety.SAFE: ("#d8f0d8", "#2e7d32"),
    Safety.RESTARTS: ("#fff0c2", "#b26a00"),
    Safety.DESTROYS_DATA: ("#f9d0d0", "#c62828"),
}
"""Fill and stroke colours of each safety class: green, amber, red."""

_CLASS = {Safety.SAFE: "safe", Safety.RESTARTS: "restarts", Safety.DESTROYS_DATA: "destroys"}
"""Mermaid class names (``classDef``) of the safety classes."""


def _lines(node: Node) -> tuple[str, ...]:
    return (*node.lines, node.change.text) if node.change is not None else node.lines


def _dot_string(text: str) -> str:
    """A DOT double-quoted string: backslash and quote escaped, newlines as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


_DOT_SHAPES = {
    NodeKind.CONTAINER: "shape=box",
    NodeKind.VOLUME: "shape=cylinder",
    NodeKind.ANONYMOUS: "shape=cylinder",
    NodeKind.IMAGE_VOLUME: "shape=cylinder",
    NodeKind.BIND: "shape=folder",
}


def render_dot(graph: Graph) -> str:
    return "\n".join(_dot(graph)) + "\n"


def _dot(graph: Graph) -> Iterator[str]:
    yield "digraph volplan {"
    yield f"  graph [rankdir=LR, labelloc=t, fontname=Helvetica, label={_dot_string(graph.title)}];"
    yield "  node [fontname=Helvetica, fontsize=11];"
    yield "  edge [fontname=Helvetica, fontsize=9];"
    for node in graph.nodes:
        attributes = [_DOT_SHAPES[node.kind], f"label={_dot_string(chr(10).join(_lines(node)))}"]
        styles = ["dashed"] if node.kind in {NodeKind.ANONYMOUS, NodeKind.IMAGE_VOLUME} else []
        if node.change is not None:
            fill, stroke = FILL[node.change.safety]
            styles.append("filled")
            attributes += [f'fillcolor="{fill}"', f'color="{stroke}"']
        if styles:
            attributes.append(f'style="{",".join(styles)}"')
        yield f"  {node.id} [{', '.join(attributes)}];"
    for edge in graph.edges:
        attributes = [f"label={_dot_string(edge.label)}"]
        if edge.volumes_from:
            attributes.append("style=dashed")
        yield f"  {edge.source} -> {edge.target} [{', '.join(attributes)}];"
    yield "}"


_MERMAID_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    "|": "#124;",
    "%": "#37;",
    "\n": " ",
}
"""Mermaid's entity codes for what could end a label, start markup, a link or a comment
(``#`` first of all: it starts an entity code itself)."""

_MERMAID_SHAPES = {
    NodeKind.CONTAINER: ("[", "]"),
    NodeKind.VOLUME: ("[(", ")]"),
    NodeKind.ANONYMOUS: ("[(", ")]"),
    NodeKind.IMAGE_VOLUME: ("[(", ")]"),
    NodeKind.BIND: ("[/", "/]"),
}


def _mermaid_string(text: str) -> str:
    return '"' + "".join(_MERMAID_ENTITIES.get(c, c) for c in text) + '"'


def render_mermaid(graph: Graph) -> str:
    return "\n".join(_mermaid(graph)) + "\n"


def _mermaid(graph: Graph) -> Iterator[str]:
    yield "flowchart LR"
    if graph.title:
        yield f"  %% {graph.title.replace(chr(10), ' ')}"
    for node in graph.nodes:
        opening, closing = _MERMAID_SHAPES[node.kind]
        label = "<br>".join(_mermaid_string(line)[1:-1] for line in _lines(node))
        yield f'  {node.id}{opening}"{label}"{closing}'
    for edge in graph.edges:
        arrow = "-.->" if edge.volumes_from else "-->"
        yield f"  {edge.source} {arrow}|{_mermaid_string(edge.label)}| {edge.target}"
    for safety, name in _CLASS.items():
        fill, stroke = FILL[safety]
        yield f"  classDef {name} fill:{fill},stroke:{stroke},color:#000"
    dashed = [n.id for n in graph.nodes if n.kind in {NodeKind.ANONYMOUS, NodeKind.IMAGE_VOLUME}]
    if dashed:
        yield "  classDef anonymous stroke-dasharray:4 3"
        yield f"  class {','.join(dashed)} anonymous"
    for safety, name in _CLASS.items():
        changed = [n.id for n in graph.nodes if n.change is not None and n.change.safety is safety]
        if changed:
            yield f"  class {','.join(changed)} {name}"
