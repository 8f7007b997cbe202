"""The topology as a graph of nodes and edges, for ``volplan graph``. Pure.

Two sources give the same shape: the specs (the desired state, with the image volumes
the engine's images declare once they are known) and the live engine (``volplan
status``'s topology). Containers point at what they mount (volumes, anonymous and image
volumes, host paths: one node per path, shared by every container that binds it) and,
dashed, at the containers they take ``volumes_from``; every edge says ro or rw. A node
the plan acts on carries the plan's verbs and its data-safety class, the worst of its
actions. Node ids come from the resource's kind and name alone, so a picture of the same
topology is the same text, and nodes and edges are sorted (graph_syntax.py writes them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from reconciler.identity import Address, ResourceKind
from reconciler.live.status import Topology, Use
from reconciler.model import DesiredContainer, DesiredState, DesiredVolume, MountKind, RunState
from reconciler.plan.actions import Plan, Safety, describe

_SEVERITY = (Safety.SAFE, Safety.RESTARTS, Safety.DESTROYS_DATA)


class NodeKind(StrEnum):
    CONTAINER = "container"
    VOLUME = "volume"
    ANONYMOUS = "anonymous"
    IMAGE_VOLUME = "image-volume"
    BIND = "bind"


@dataclass(frozen=True)
class NodeChange:
    """What the plan does to a node: its verbs in plan order, and the worst safety class."""

    verbs: tuple[str, ...]
    safety: Safety

    @property
    def text(self) -> str:
        return f"{', '.join(self.verbs)} [{self.safety.value}]"


@dataclass(frozen=True)
class Node:
    id: str
    kind: NodeKind
    lines: tuple[str, ...]
    """The label, one entry a line: the name first, then what qualifies it."""
    change: NodeChange | None = None


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    label: str
    volumes_from: bool = False


@dataclass(frozen=True)
class Graph:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def planned_changes(plan: Plan) -> dict[Address, NodeChange]:
    """Each resource the plan acts on, with its verbs and the worst safety class of them."""
    verbs: dict[Address, list[str]] = {}
    worst: dict[Address, Safety] = {}
    for action in plan.actions:
        shown = describe(action)
        said = verbs.setdefault(shown.address, [])
        if shown.verb not in said:
            said.append(shown.verb)
        before = worst.get(shown.address, Safety.SAFE)
        worst[shown.address] = max(before, shown.safety, key=_SEVERITY.index)
    return {address: NodeChange(tuple(verbs[address]), worst[address]) for address in verbs}


def node_id(kind: NodeKind, name: str) -> str:
    """``volume_pgdata``: the kind and the name in letters, digits and ``_`` only (an id
    that both DOT and Mermaid take unquoted). Any other character is written as its code
    (``webapp-data``: ``volume_webapp_2d_data``) and ``_`` as ``__``, so two names never
    share an id."""
    slug = "".join(c if c.isascii() and c.isalnum() else _code(c) for c in name)
    return f"{kind.value.replace('-', '_')}_{slug}"


def _code(character: str) -> str:
    return "__" if character == "_" else f"_{ord(character):x}_"


class _Builder:
    """Nodes by id (the first description of a node wins) and edges, then sorted."""

    def __init__(self, changes: Mapping[Address, NodeChange], *, elsewhere: str) -> None:
        """``elsewhere``: what a node of a change alone says (where it is missing from)."""
        self.changes = changes
        self.elsewhere = elsewhere
        self.nodes: dict[str, Node] = {}
        self.edges: set[Edge] = set()
        self.drawn: set[Address] = set()

    def node(self, kind: NodeKind, name: str, lines: Iterable[str]) -> str:
        found = node_id(kind, name)
        if found not in self.nodes:
            address = _address(kind, name)
            change = self.changes.get(address) if address is not None else None
            self.nodes[found] = Node(found, kind, tuple(lines), change)
            if address is not None:
                self.drawn.add(address)
        return found

    def edge(self, source: str, target: str, label: str, *, volumes_from: bool = False) -> None:
        self.edges.add(Edge(source, target, label, volumes_from))

    def unshown_changes(self) -> None:
        """Resources the plan acts on that the picture has no node for (a pruned volume,
        a migration's temporary volume): drawn alone, so no change goes unseen."""
        for address in sorted(self.changes.keys() - self.drawn, key=str):
            kind = NodeKind.CONTAINER if address.kind is ResourceKind.CONTAINER else NodeKind.VOLUME
            self.node(kind, address.name, (address.name, self.elsewhere))

    def graph(self, title: str) -> Graph:
        nodes = tuple(self.nodes[i] for i in sorted(self.nodes))
        return Graph(title, nodes, tuple(sorted(self.edges)))


def _address(kind: NodeKind, name: str) -> Address | None:
    """The resource a node is, as plans name it; a host path is none, nor is the desired
    graph's anonymous volume (``web:/data``), whose changes are its container's."""
    if kind is NodeKind.CONTAINER:
        return Address.container(name)
    if kind is NodeKind.BIND or ":" in name:
        return None
    return Address.volume(name)


def _mode(read_only: bool) -> str:
    return "ro" if read_only else "rw"


def desired_graph(
    desired: DesiredState,
    changes: Mapping[Address, NodeChange] | None = None,
    *,
    base: str | None = None,
    title: str = "",
) -> Graph:
    """The specs' topology. Host paths under ``base`` (the spec folder) are shown relative
    to it (``./static``), so the picture is the same in every checkout."""
    build = _Builder(changes or {}, elsewhere="not in the specs")
    for volume in sorted(desired.volumes.values(), key=lambda v: v.name):
        build.node(NodeKind.VOLUME, volume.name, _volume_lines(volume))
    containers = sorted(desired.containers.values(), key=lambda c: c.name)
    for container in containers:
        state = "" if container.state is RunState.RUNNING else f" ({container.state.value})"
        build.node(NodeKind.CONTAINER, container.name, (container.name, container.image + state))
    for container in containers:
        _add_mounts(build, container, base)
    build.unshown_changes()
    return build.graph(title)


def _volume_lines(volume: DesiredVolume) -> list[str]:
    lines = [volume.name]
    flags = [
        name for name, on in (("external", volume.external), ("protected", volume.protect)) if on
    ]
    if volume.driver != "local":
        flags.insert(0, f"driver {volume.driver}")
    if flags:
        lines.append(", ".join(flags))
    return lines


def _add_mounts(build: _Builder, container: DesiredContainer, base: str | None) -> None:
    me = node_id(NodeKind.CONTAINER, container.name)
    for mount in container.mounts:
        label = f"{mount.target} {_mode(mount.read_only)}"
        match mount.kind:
            case MountKind.VOLUME:
                source = mount.source or ""
                target = build.node(NodeKind.VOLUME, source, (source, "not declared"))
            case MountKind.BIND:
                path = _shown_path(mount.source or "", base)
                target = build.node(NodeKind.BIND, path, (path,))
            case MountKind.ANONYMOUS:
                kind = NodeKind.IMAGE_VOLUME if mount.from_image else NodeKind.ANONYMOUS
                what = "image volume" if mount.from_image else "anonymous volume"
                name = f"{container.name}:{mount.target}"
                target = build.node(kind, name, (what, name))
        build.edge(me, target, label)
    for taken in container.volumes_from:
        other = build.node(NodeKind.CONTAINER, taken.container, (taken.container, "not declared"))
        build.edge(me, other, f"volumes_from {_mode(taken.read_only)}", volumes_from=True)


def _shown_path(path: str, base: str | None) -> str:
    if base is None:
        return path
    inside = PurePosixPath(path)
    if inside == PurePosixPath(base) or not inside.is_relative_to(base):
        return path
    return f"./{inside.relative_to(base)}"


def live_graph(
    topology: Topology,
    changes: Mapping[Address, NodeChange] | None = None,
    *,
    title: str = "",
) -> Graph:
    """The engine's topology: what containers mount themselves (a mount inherited through
    ``volumes_from`` is the edge to the container it comes from)."""
    build = _Builder(changes or {}, elsewhere="not on the engine")
    for data in topology.data_containers:
        source = build.node(NodeKind.CONTAINER, data.name, (data.name, data.status))
        for user, mode in data.users:
            mine = build.node(NodeKind.CONTAINER, user, (user,))
            build.edge(mine, source, f"volumes_from {mode}", volumes_from=True)
    for volume in topology.volumes:
        kind = _live_volume_kind(volume.anonymous, volume.image_volume)
        lines = [volume.name[:12] if volume.anonymous else volume.name]
        if volume.owner is not None:
            lines.append(volume.owner)
        lines.extend(_live_flags(volume.project, volume.protected, dangling=not volume.users))
        _mounted_by(build, build.node(kind, volume.name, lines), volume.users)
    for bind in topology.binds:
        _mounted_by(build, build.node(NodeKind.BIND, bind.host_path, (bind.host_path,)), bind.users)
    build.unshown_changes()
    return build.graph(title)


def _mounted_by(build: _Builder, target: str, uses: Iterable[Use]) -> None:
    """Edges to ``target`` from the containers that mount it themselves."""
    for use in uses:
        if use.via is None:
            mine = build.node(NodeKind.CONTAINER, use.container, (use.container,))
            build.edge(mine, target, f"{use.target} {_mode(use.read_only)}")


def _live_volume_kind(anonymous: bool, image_volume: bool) -> NodeKind:
    if image_volume:
        return NodeKind.IMAGE_VOLUME
    return NodeKind.ANONYMOUS if anonymous else NodeKind.VOLUME


def _live_flags(project: str | None, protected: bool, *, dangling: bool) -> list[str]:
    flags = [f"project {project}"] if project else []
    flags += ["protected"] * protected + ["dangling"] * dangling
    return [", ".join(flags)] if flags else []
