"""Live volume topology for ``volplan status``: what ``docker inspect`` shows under Mounts,
gathered for a project (or the whole engine) in one view.

``read_topology`` does the I/O; it may cost more than a plan's four requests: one
``/system/df`` (the only place the engine reports volume sizes) and one inspect per
container in view (``volumes_from`` is not in the list answer). ``build_topology`` is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler import labels
from reconciler.engine.base import Engine
from reconciler.errors import EngineNotFound
from reconciler.live.reader import read_live_state
from reconciler.model import DesiredState, EngineInfo, LiveContainer, LiveState


@dataclass(frozen=True)
class Use:
    """A container mounting something at ``target``; ``via`` names a volumes_from source."""

    container: str
    target: str
    read_only: bool
    via: str | None = None


@dataclass(frozen=True)
class VolumeNode:
    name: str
    driver: str
    mountpoint: str
    size: int | None
    project: str | None
    protected: bool
    users: tuple[Use, ...]
    image_volume: bool = False
    """An anonymous volume volplan made for a path the container's image declares."""
    adopted_by: str | None = None
    """The project whose specs declare this volume, which volplan did not create: plans
    adopt it as it is (a volume cannot be relabelled), so it belongs to that project."""

    @property
    def anonymous(self) -> bool:
        """Docker names an anonymous volume with 64 hex digits."""
        return is_anonymous_name(self.name)

    @property
    def owner(self) -> str | None:
        """``dbstore:/dbdata`` for an anonymous volume: the container that mounts it itself
        (not through volumes_from) and where; the name alone tells a person nothing."""
        if not self.anonymous:
            return None
        own = [u for u in self.users if u.via is None]
        return f"{own[0].container}:{own[0].target}" if own else None


def is_anonymous_name(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


@dataclass(frozen=True)
class SharedMount:
    """One mount of a data-volume container: a volume name or a host path, at ``target``."""

    source: str
    target: str


@dataclass(frozen=True)
class DataContainer:
    """A container others take mounts from through ``volumes_from``."""

    name: str
    status: str
    mounts: tuple[SharedMount, ...]
    users: tuple[tuple[str, str], ...]
    """(container, mode) pairs; mode is "rw" or "ro"."""


@dataclass(frozen=True)
class BindNode:
    host_path: str
    users: tuple[Use, ...]


@dataclass(frozen=True)
class Topology:
    engine: EngineInfo
    projects: tuple[str, ...]
    """The projects in view; empty for the whole engine."""
    volumes: tuple[VolumeNode, ...]
    data_containers: tuple[DataContainer, ...]
    binds: tuple[BindNode, ...]

    @property
    def dangling(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.volumes if not v.users)


def read_topology(engine: Engine, desired: DesiredState | None) -> Topology:
    live = read_live_state(engine)
    volumes, containers = scope(live, desired)
    volumes_from = {name: _volumes_from(engine, name) for name in sorted(containers)}
    sizes = engine.disk_usage().volume_sizes
    projects = desired.projects if desired is not None else ()
    return build_topology(
        live,
        volumes,
        containers,
        sizes=sizes,
        volumes_from=volumes_from,
        projects=projects,
        adopted=adopted_volumes(live, desired),
    )


def adopted_volumes(live: LiveState, desired: DesiredState | None) -> dict[str, str]:
    """Volume -> project, for the unlabelled volumes a project relies on: those its specs
    declare (not external), and the anonymous ones its containers were adopted with."""
    if desired is None:
        return {}
    adopted = {
        name: volume.project
        for name, volume in desired.volumes.items()
        if not volume.external and name in live.volumes
    }
    for name in desired.containers.keys() & live.containers.keys():
        project = live.containers[name].labels.get(labels.PROJECT)
        if project in desired.projects:
            for mount in live.containers[name].mounts:
                if mount.name is not None and is_anonymous_name(mount.name):
                    adopted.setdefault(mount.name, project)
    return {
        name: project
        for name, project in adopted.items()
        if name in live.volumes and labels.PROJECT not in live.volumes[name].labels
    }


def _volumes_from(engine: Engine, name: str) -> tuple[str, ...]:
    """HostConfig.VolumesFrom; a container removed since the list call has none."""
    try:
        return engine.inspect_container(name).volumes_from
    except EngineNotFound:
        return ()


def scope(live: LiveState, desired: DesiredState | None) -> tuple[set[str], set[str]]:
    """Volume and container names in view: everything, or what the projects reach."""
    if desired is None:
        return set(live.volumes), set(live.containers)
    projects = set(desired.projects)
    containers = {
        n
        for n, c in live.containers.items()
        if n in desired.containers or c.labels.get(labels.PROJECT) in projects
    }
    volumes = {
        n
        for n, v in live.volumes.items()
        if n in desired.volumes or v.labels.get(labels.PROJECT) in projects
    }
    volumes |= {m.name for n in containers for m in live.containers[n].mounts if m.name}
    containers |= {c.name for v in volumes for c in live.containers_using_volume(v)}
    return volumes & set(live.volumes), containers


def build_topology(
    live: LiveState,
    volumes: set[str],
    containers: set[str],
    *,
    sizes: Mapping[str, int],
    volumes_from: Mapping[str, tuple[str, ...]],
    projects: tuple[str, ...],
    adopted: Mapping[str, str] | None = None,
) -> Topology:
    in_view = [live.containers[n] for n in sorted(containers)]
    sources = _sources(volumes_from)
    return Topology(
        engine=live.engine,
        projects=projects,
        volumes=tuple(
            _volume(live, name, in_view, sizes, sources, adopted_by=(adopted or {}).get(name))
            for name in sorted(volumes)
        ),
        data_containers=_data_containers(live, volumes_from),
        binds=_binds(live, in_view, sources),
    )


def _sources(volumes_from: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Container -> the containers it takes mounts from."""
    return {
        user: [entry.partition(":")[0] for entry in entries]
        for user, entries in volumes_from.items()
    }


def _via(live: LiveState, user: str, target: str, sources: Mapping[str, list[str]]) -> str | None:
    for source in sources.get(user, []):
        found = live.containers.get(source)
        if found is not None and found.mount_at(target) is not None:
            return source
    return None


def _volume(
    live: LiveState,
    name: str,
    in_view: list[LiveContainer],
    sizes: Mapping[str, int],
    sources: Mapping[str, list[str]],
    *,
    adopted_by: str | None,
) -> VolumeNode:
    volume = live.volumes[name]
    users = tuple(
        Use(c.name, m.target, m.read_only, _via(live, c.name, m.target, sources))
        for c in live.containers_using_volume(name)
        for m in c.mounts
        if m.name == name
    )
    return VolumeNode(
        name=name,
        driver=volume.driver,
        mountpoint=volume.mountpoint,
        size=sizes.get(name),
        project=volume.labels.get(labels.PROJECT),
        protected=volume.labels.get(labels.PROTECT) == "true",
        users=users,
        image_volume=volume.labels.get(labels.IMAGE_VOLUME) == "true",
        adopted_by=adopted_by,
    )


def _data_containers(
    live: LiveState, volumes_from: Mapping[str, tuple[str, ...]]
) -> tuple[DataContainer, ...]:
    users: dict[str, list[tuple[str, str]]] = {}
    for user, entries in sorted(volumes_from.items()):
        for entry in entries:
            source, _, mode = entry.partition(":")
            users.setdefault(source, []).append((user, mode or "rw"))
    found = []
    for name, using in sorted(users.items()):
        container = live.containers.get(name)
        mounts = tuple(
            SharedMount(m.name or m.source, m.target)
            for m in (container.mounts if container else ())
        )
        status = container.status if container else "missing"
        found.append(DataContainer(name, status, mounts, tuple(using)))
    return tuple(found)


def _binds(
    live: LiveState, in_view: list[LiveContainer], sources: Mapping[str, list[str]]
) -> tuple[BindNode, ...]:
    by_path: dict[str, list[Use]] = {}
    for container in in_view:
        for mount in container.mounts:
            if mount.type == "bind":
                via = _via(live, container.name, mount.target, sources)
                by_path.setdefault(mount.source, []).append(
                    Use(container.name, mount.target, mount.read_only, via)
                )
    return tuple(BindNode(path, tuple(uses)) for path, uses in sorted(by_path.items()))
