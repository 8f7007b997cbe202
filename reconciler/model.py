"""Plain data shared by the stages: the desired state from the specs and the live state
from the engine, normalised to the same shapes so the differ can compare them. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, NamedTuple

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
    TARGETS = "targets file"
    UNSET = "unset"


@dataclass(frozen=True)
class VariableUse:
    """One variable a spec value read, where it stands, and where its value came from."""

    name: str
    position: Position
    origin: Origin


class PullPolicy(StrEnum):
    """When apply pulls a container's image: Compose's ``pull_policy`` values."""

    MISSING = "missing"
    """Only when the engine has no image of that reference (the default)."""
    ALWAYS = "always"
    """Before every apply, so a moved tag is rolled out."""
    NEVER = "never"
    """Not at all: an image the engine lacks is an error, before anything changes."""


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
    selinux: str | None = None
    """``z`` (shared) or ``Z`` (private): SELinux relabelling, as ``docker run -v`` takes it."""
    from_image: bool = False
    """An anonymous volume the image declares (``VOLUME``) at a path the spec leaves free."""


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
    pull: PullPolicy = PullPolicy.MISSING
    """Not part of the recorded config: how an image is fetched never changes a container."""
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
    placement: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """The labels a target must carry for a project to go there (its documents'
    ``targets: {labels: ...}``); a project not listed goes everywhere."""
    elsewhere: tuple[str, ...] = ()
    """Projects the specs declare that are not for this engine (placement.py): neither
    planned nor pruned here, their resources on it are left alone."""
    image_ids: Mapping[str, str] = field(default_factory=dict)
    """The ID each image reference of the containers names on the engine now, filled in
    from its image list (live/images.py; a reference it lacks is absent). Kept here, not on
    the containers, so completing the specs for another engine leaves them as they are."""

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
    from_image: bool = False
    """The path is the image's ``VOLUME``, not one the spec mounts."""


@dataclass(frozen=True)
class TlsFiles:
    """An engine's TLS material (a targets file's ``tls:``), as absolute paths."""

    ca: str | None
    cert: str | None
    key: str | None
    verify: bool = True


@dataclass(frozen=True)
class EngineInfo:
    """What identifies the engine a plan was made against."""

    endpoint: str
    daemon_id: str
    name: str
    server_version: str
    api_version: str
    is_local: bool
    node_id: str | None = None
    """The engine's Swarm node ID (``/info`` ``Swarm.NodeID``), None outside a swarm."""
    cpus: int = 0
    """CPUs the engine reports (0 if unknown); sizes apply's worker pool."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """The engine's labels (``dockerd --label``), overlaid by a targets file's ``labels:``:
    what a spec's ``targets: {labels: ...}`` is matched against."""

    @property
    def is_podman(self) -> bool:
        """Podman's Docker-compatible API, named so by engine/records.daemon_id."""
        return self.daemon_id.startswith("podman:")


class LiveMount(NamedTuple):
    """A mount point as the engine reports it (``docker inspect`` → Mounts). A tuple, as
    ``LiveVolume``: every plan reads one for each mount of every container."""

    target: str
    type: str
    name: str | None
    source: str
    read_only: bool
    propagation: str


class LiveVolume(NamedTuple):
    """A volume as the engine lists it."""

    name: str
    driver: str
    driver_opts: Mapping[str, str]
    labels: Mapping[str, str]
    mountpoint: str
    scope: str = "local"


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image's config (``docker image inspect`` → Config) volplan acts on.

    An image's config never changes for its ID, which is what lets it be cached by ID.
    """

    id: str
    volumes: tuple[str, ...] = ()
    """Paths the image declares with ``VOLUME``, normalised and sorted."""
    stop_signal: str | None = None


@dataclass(frozen=True)
class LiveImage:
    """An image as ``/images/json`` lists it: its ID and the references that name it."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveContainer:
    id: str
    name: str
    image: str
    status: str
    labels: Mapping[str, str]
    mounts: tuple[LiveMount, ...]
    image_id: str = ""
    """The ID of the image the container was created from (``ImageID`` in the list)."""

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
    images: Mapping[str, LiveImage] | None = None
    """Every image on the engine, by ID; None when not read (a live state recorded without
    the image list): then nothing is said about images, neither moved nor missing."""
    image_configs: Mapping[str, ImageConfig] = field(default_factory=dict)
    """The configs of the images the specs use, by ID (read or cached after the specs load)."""

    def containers_using_volume(self, name: str) -> tuple[LiveContainer, ...]:
        return tuple(c for c in self.containers.values() if any(m.name == name for m in c.mounts))
