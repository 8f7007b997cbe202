"""Plain data shared by the stages: the desired state from the specs and the live state
from the engine, normalised to the same shapes so the differ can compare them. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from reconciler.container_options import ContainerOptions
from reconciler.errors import Position


class MountKind(StrEnum):
    VOLUME = "volume"
    ANONYMOUS = "anonymous"
    BIND = "bind"


class RunState(StrEnum):
    CREATED = "created"
    RUNNING = "running"


class Origin(StrEnum):
    """Where an interpolated variable's value came from."""

    ENVIRONMENT = "environment"
    DOTENV = ".env"
    UNSET = "unset"


@dataclass(frozen=True)
class VariableUse:
    """One variable a spec value read, where it stands, and where its value came from."""

    name: str
    position: Position
    origin: Origin


@dataclass(frozen=True)
class Mount:
    """One desired mount; ``source`` is a volume name, an absolute host path, or None."""

    target: str
    kind: MountKind
    source: str | None = None
    read_only: bool = False
    propagation: str | None = None
    nocopy: bool = False
    create_host_path: bool = False


@dataclass(frozen=True)
class VolumesFrom:
    container: str
    read_only: bool = False


@dataclass(frozen=True)
class DesiredVolume:
    name: str
    project: str
    origin: Position
    driver: str = "local"
    driver_opts: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    external: bool = False
    protect: bool = False


@dataclass(frozen=True)
class DesiredContainer:
    name: str
    project: str
    origin: Position
    image: str
    command: tuple[str, ...] | None = None
    state: RunState = RunState.RUNNING
    mounts: tuple[Mount, ...] = ()
    volumes_from: tuple[VolumesFrom, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    network_mode: str | None = None
    restart: str | None = None
    publish_all: bool = False
    stop_signal: str | None = None
    stop_timeout: int | None = None
    options: ContainerOptions = field(default_factory=ContainerOptions)
    env_from_file: Mapping[str, str] = field(default_factory=dict)
    """Environment keys whose value came from an ``env_file``, and that file's name: plans
    and reports show ``(from env_file NAME)`` for them, never the value."""
    field_origins: Mapping[str, Position] = field(default_factory=dict)
    """Positions of individual fields (``image``, ``mounts[/data]``…) for plan lines."""

    def origin_of(self, field_path: str) -> Position:
        """The most precise position known for a field path such as ``mounts[/data].read_only``."""
        path = field_path
        while path:
            if path in self.field_origins:
                return self.field_origins[path]
            path = path.rpartition(".")[0]
        return self.origin


@dataclass(frozen=True)
class DesiredState:
    """Every resource the specs declare, across all the projects in the spec directory."""

    volumes: Mapping[str, DesiredVolume]
    containers: Mapping[str, DesiredContainer]
    helper_image: str | None = None
    """The specs' default image for helper containers (copies, backups), if they name one."""
    variables: tuple[VariableUse, ...] = ()
    """Every variable the specs interpolated, for the policy and the spec cache."""
    files_read: tuple[str, ...] = ()
    """Files besides the specs whose content is in this state (``.env``, ``env_file``), read
    or looked for: the spec cache checks them again before reusing the state."""

    @cached_property
    def projects(self) -> tuple[str, ...]:
        """Computed once: callers test membership in it once per live resource."""
        names = {v.project for v in self.volumes.values()}
        names |= {c.project for c in self.containers.values()}
        return tuple(sorted(names))


@dataclass(frozen=True)
class Change:
    """One field that differs: ``before`` is live, ``after`` is desired (None = absent).

    ``path`` holds the segments (``("mounts", "/data", "read_only")``); only the renderers
    turn it into text (fieldpath.py).
    """

    path: tuple[str | int, ...]
    before: Any
    after: Any


@dataclass(frozen=True)
class AnonymousVolume:
    """An anonymous volume a container gets at ``target``; ``exists`` says if it must be made."""

    target: str
    name: str
    exists: bool


@dataclass(frozen=True)
class EngineInfo:
    """What identifies the engine a plan was made against."""

    endpoint: str
    daemon_id: str
    name: str
    server_version: str
    api_version: str
    is_local: bool
    cpus: int = 0
    """CPUs the engine reports (0 if unknown); sizes apply's worker pool."""


@dataclass(frozen=True)
class LiveMount:
    """A mount point as the engine reports it (``docker inspect`` → Mounts)."""

    target: str
    type: str
    name: str | None
    source: str
    read_only: bool
    propagation: str


@dataclass(frozen=True)
class LiveVolume:
    name: str
    driver: str
    driver_opts: Mapping[str, str]
    labels: Mapping[str, str]
    mountpoint: str
    scope: str = "local"


@dataclass(frozen=True)
class LiveContainer:
    id: str
    name: str
    image: str
    status: str
    labels: Mapping[str, str]
    mounts: tuple[LiveMount, ...]

    @property
    def running(self) -> bool:
        return self.status in {"running", "restarting", "paused"}

    def mount_at(self, target: str) -> LiveMount | None:
        return next((m for m in self.mounts if m.target == target), None)


@dataclass(frozen=True)
class LiveState:
    """Everything on the engine that matters for volume topology, keyed by exact name."""

    engine: EngineInfo
    volumes: Mapping[str, LiveVolume]
    containers: Mapping[str, LiveContainer]

    def containers_using_volume(self, name: str) -> tuple[LiveContainer, ...]:
        return tuple(c for c in self.containers.values() if any(m.name == name for m in c.mounts))
