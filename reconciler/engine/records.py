"""Docker's JSON answers -> typed records: the one place that knows the Engine API's shapes.

Pure. The adapter parses every answer here, and the fake engine keeps its state in Docker's
own shapes and answers through the same functions, so a fake answer is parsed exactly as a
real one. Nothing outside the engine layer sees Docker's JSON. Canonical forms are filled
in here (a volume's driver defaults to ``local``, a mount target is normalised, a
container's name loses its leading ``/``), so every later stage compares like with like.

To add a call: a frozen record (or a ``reconciler.model`` type, when the live state holds
it as it is), a ``parse_*`` function here, the method in ``base.Engine`` and its kind in
one of ``base``'s method sets.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.container_options import Healthcheck, NetworkAttachment, PortBinding, Ulimit
from reconciler.model import (
    EngineInfo,
    ImageConfig,
    LiveContainer,
    LiveImage,
    LiveMount,
    LiveVolume,
)

RawObject = dict[str, Any]
"""One JSON object as the engine sent it (or as the fake engine stores it)."""


@dataclass(frozen=True)
class ImageDefaults:
    """What an image's ``Config`` gives every container made from it (``docker image
    inspect``): ``volplan export`` leaves out what a container shares with its image."""

    id: str
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    environment: tuple[str, ...] = ()
    """``KEY=VALUE`` entries, in the image's order."""
    working_dir: str = ""
    user: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str | None = None
    healthcheck: Healthcheck | None = None
    volumes: tuple[str, ...] = ()
    exposed_ports: tuple[str, ...] = ()
    """``80/tcp``…: what ``EXPOSE`` declares."""


@dataclass(frozen=True)
class ContainerSettings:
    """A container's settings as it was created (inspect's ``Config`` and ``HostConfig``),
    in the spec's terms where they are plain: what ``volplan export`` writes out."""

    image: str = ""
    """``Config.Image``: the reference it was created from, as given."""
    image_id: str = ""
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    environment: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    hostname: str = ""
    stop_signal: str | None = None
    stop_timeout: int | None = None
    healthcheck: Healthcheck | None = None
    network_mode: str = ""
    networks: tuple[NetworkAttachment, ...] = ()
    """The networks joined, with the aliases given (not the engine's own: the ID)."""
    restart: str | None = None
    """``no``, ``always``, ``unless-stopped``, ``on-failure[:N]``; None when unset."""
    publish_all: bool = False
    ports: tuple[PortBinding, ...] = ()
    init: bool | None = None
    read_only: bool = False
    shm_size: int | None = None
    tmpfs: Mapping[str, str] = field(default_factory=dict)
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    ulimits: tuple[Ulimit, ...] = ()
    memory: int = 0
    nano_cpus: int = 0
    pids_limit: int | None = None
    mounts: tuple[LiveMount, ...] = ()
    nocopy: tuple[str, ...] = ()
    """Targets of the volumes mounted with ``nocopy`` (``HostConfig.Mounts`` or ``Binds``)."""
    selinux: Mapping[str, str] = field(default_factory=dict)
    """Target -> ``z`` or ``Z``: the relabelling a ``Binds`` entry asked for."""


@dataclass(frozen=True)
class ContainerInspect:
    """What ``GET /containers/{ref}/json`` tells that the list answer lacks."""

    id: str
    name: str
    labels: Mapping[str, str]
    """``Config.Labels``."""
    volumes_from: tuple[str, ...]
    """``HostConfig.VolumesFrom`` entries, ``name`` or ``name:mode`` as created."""
    status: str = ""
    """``State.Status``: created, running, exited…"""
    health: str | None = None
    """``State.Health.Status`` (starting, healthy, unhealthy); None without a healthcheck."""
    exit_code: int = 0
    """``State.ExitCode``, meaningful once the container has exited."""
    settings: ContainerSettings = field(default_factory=ContainerSettings)


@dataclass(frozen=True)
class EngineEvent:
    """One message of ``GET /events``: what happened (``action``) to which object."""

    type: str
    """``container``, ``volume``, ``network``…"""
    action: str
    """``create``, ``start``, ``die``, ``destroy``…"""
    actor_id: str
    """A container's ID, a volume's name."""
    attributes: Mapping[str, str]
    """``Actor.Attributes``: a container's ``name`` and its labels; a volume's ``driver``."""
    time: float
    """When, in seconds since the epoch on the engine's clock (``timeNano``)."""

    @property
    def name(self) -> str:
        """The object's name: a container's from its attributes, a volume's is its ID."""
        return self.attributes.get("name", self.actor_id)


@dataclass(frozen=True)
class DiskUsage:
    """What ``GET /system/df`` reports about volumes."""

    volume_sizes: Mapping[str, int]
    """Bytes by volume name, for the volumes the engine could measure (it says -1 if not)."""


def parse_info(raw: RawObject, *, endpoint: str, api_version: str) -> EngineInfo:
    """``GET /info``, with what only the caller knows: where the engine is, which API."""
    return EngineInfo(
        endpoint=endpoint,
        daemon_id=daemon_id(raw),
        name=raw.get("Name", ""),
        server_version=raw.get("ServerVersion", ""),
        api_version=api_version,
        node_id=(raw.get("Swarm") or {}).get("NodeID") or None,
        is_local=endpoint.startswith(("unix://", "npipe://")),
        cpus=int(raw.get("NCPU") or 0),
        labels=engine_labels(raw.get("Labels") or []),
    )


def daemon_id(raw: RawObject) -> str:
    """The engine's identity, which a saved plan is tied to. dockerd keeps its ``ID`` in its
    data root; Podman's Docker-compatible API (4.x, told by its ``BuildahVersion``) answers a
    new random ``ID`` on every call, so a Podman engine is named by its host name and
    storage root instead, which last as long as its containers and volumes do."""
    if "BuildahVersion" in raw:
        return f"podman:{raw.get('Name', '')}:{raw.get('DockerRootDir', '')}"
    return str(raw.get("ID", ""))


def parse_event(raw: RawObject) -> EngineEvent:
    """One ``/events`` message (API 1.22+ shape: ``Type``, ``Action``, ``Actor``)."""
    actor = raw.get("Actor") or {}
    return EngineEvent(
        type=raw.get("Type", ""),
        action=raw.get("Action", ""),
        actor_id=actor.get("ID", ""),
        attributes=dict(actor.get("Attributes") or {}),
        time=int(raw.get("timeNano") or 0) / 1e9,
    )


def engine_labels(entries: list[str]) -> dict[str, str]:
    """``/info``'s ``Labels``, ``["k=v", ...]`` as ``dockerd --label k=v`` gave them; a
    label given twice keeps its last value, a label with no ``=`` has an empty one."""
    pairs = (entry.partition("=") for entry in entries if isinstance(entry, str))
    return {key: value for key, _, value in pairs}


def parse_volume_list(answer: RawObject) -> list[LiveVolume]:
    """``GET /volumes``: ``{"Volumes": [...]}``, where the list may be null."""
    return [parse_volume(v) for v in answer.get("Volumes") or []]


def parse_volume(raw: RawObject) -> LiveVolume:
    return LiveVolume(
        name=raw["Name"],
        driver=raw.get("Driver") or "local",
        driver_opts=dict(raw.get("Options") or {}),
        labels=dict(raw.get("Labels") or {}),
        mountpoint=raw.get("Mountpoint") or "",
        scope=raw.get("Scope") or "local",
    )


def parse_container_list(answer: list[RawObject]) -> list[LiveContainer]:
    """``GET /containers/json?all=1``."""
    return [parse_container(c) for c in answer]


def parse_container(raw: RawObject) -> LiveContainer:
    """One entry of the container list: ``Names`` and ``State``, where inspect has ``Name``
    and ``State.Status``."""
    names = raw.get("Names") or [raw["Id"]]
    return LiveContainer(
        id=raw["Id"],
        name=names[0].lstrip("/"),
        image=raw.get("Image") or "",
        image_id=raw.get("ImageID") or "",
        status=raw.get("State") or "",
        labels=dict(raw.get("Labels") or {}),
        mounts=tuple(sorted((parse_mount(m) for m in raw.get("Mounts") or []), key=_target)),
    )


def parse_mount(raw: RawObject) -> LiveMount:
    return LiveMount(
        target=posixpath.normpath(raw.get("Destination") or "/"),
        type=raw.get("Type") or "volume",
        name=raw.get("Name") or None,
        source=raw.get("Source") or "",
        read_only=not raw.get("RW", True),
        propagation=raw.get("Propagation") or "",
    )


def _target(mount: LiveMount) -> str:
    return mount.target


def parse_image_list(answer: list[RawObject]) -> list[LiveImage]:
    """``GET /images/json``: IDs and the tags and digests naming them (either may be null)."""
    return [
        LiveImage(
            id=raw["Id"],
            repo_tags=tuple(raw.get("RepoTags") or ()),
            repo_digests=tuple(raw.get("RepoDigests") or ()),
        )
        for raw in answer
    ]


def parse_image_inspect(raw: RawObject) -> ImageConfig:
    """``GET /images/{ref}/json``: what volplan uses of ``Config``. Volume paths are cleaned
    as the daemon cleans them when it creates a container's volumes."""
    config = raw.get("Config") or {}
    return ImageConfig(
        id=raw["Id"],
        volumes=tuple(sorted({posixpath.normpath(p) for p in config.get("Volumes") or {}})),
        stop_signal=config.get("StopSignal") or None,
    )


def parse_image_defaults(raw: RawObject) -> ImageDefaults:
    """``GET /images/{ref}/json``: every default of ``Config`` a container inherits."""
    config = raw.get("Config") or {}
    return ImageDefaults(
        id=raw["Id"],
        command=_strings(config.get("Cmd")),
        entrypoint=_strings(config.get("Entrypoint")),
        environment=tuple(config.get("Env") or ()),
        working_dir=config.get("WorkingDir") or "",
        user=config.get("User") or "",
        labels=dict(config.get("Labels") or {}),
        stop_signal=config.get("StopSignal") or None,
        healthcheck=_healthcheck(config.get("Healthcheck")),
        volumes=tuple(sorted({posixpath.normpath(p) for p in config.get("Volumes") or {}})),
        exposed_ports=tuple(sorted(config.get("ExposedPorts") or {})),
    )


def parse_container_inspect(raw: RawObject) -> ContainerInspect:
    return ContainerInspect(
        id=str(raw.get("Id", "")),
        name=str(raw.get("Name", "")).lstrip("/"),
        labels=dict((raw.get("Config") or {}).get("Labels") or {}),
        volumes_from=tuple((raw.get("HostConfig") or {}).get("VolumesFrom") or ()),
        status=str((raw.get("State") or {}).get("Status") or ""),
        health=((raw.get("State") or {}).get("Health") or {}).get("Status"),
        exit_code=int((raw.get("State") or {}).get("ExitCode") or 0),
        settings=_settings(raw),
    )


def _settings(raw: RawObject) -> ContainerSettings:
    config, host = raw.get("Config") or {}, raw.get("HostConfig") or {}
    return ContainerSettings(
        image=config.get("Image") or "",
        image_id=raw.get("Image") or "",
        command=_strings(config.get("Cmd")),
        entrypoint=_strings(config.get("Entrypoint")),
        environment=tuple(config.get("Env") or ()),
        working_dir=config.get("WorkingDir") or "",
        user=config.get("User") or "",
        hostname=config.get("Hostname") or "",
        stop_signal=config.get("StopSignal") or None,
        stop_timeout=config.get("StopTimeout"),
        healthcheck=_healthcheck(config.get("Healthcheck")),
        network_mode=host.get("NetworkMode") or "",
        networks=_networks(raw),
        restart=_restart(host.get("RestartPolicy") or {}),
        publish_all=bool(host.get("PublishAllPorts")),
        ports=_ports(host.get("PortBindings") or {}),
        init=host.get("Init"),
        read_only=bool(host.get("ReadonlyRootfs")),
        shm_size=host.get("ShmSize") or None,
        tmpfs=dict(host.get("Tmpfs") or {}),
        cap_add=tuple(host.get("CapAdd") or ()),
        cap_drop=tuple(host.get("CapDrop") or ()),
        ulimits=tuple(
            Ulimit(u["Name"], int(u["Soft"]), int(u["Hard"])) for u in host.get("Ulimits") or ()
        ),
        memory=int(host.get("Memory") or 0),
        nano_cpus=int(host.get("NanoCpus") or 0),
        pids_limit=host.get("PidsLimit") or None,
        mounts=tuple(sorted((parse_mount(m) for m in raw.get("Mounts") or []), key=_target)),
        nocopy=_nocopy(host),
        selinux=_selinux(host.get("Binds") or []),
    )


def _bind_flags(binds: list[str]) -> dict[str, set[str]]:
    """Target -> the flags of a ``SOURCE:TARGET[:FLAGS]`` entry (``HostConfig.Binds``)."""
    found = {}
    for entry in binds:
        parts = entry.split(":")
        if len(parts) >= 2:
            target = posixpath.normpath(parts[1])
            found[target] = set(parts[2].split(",")) if len(parts) > 2 else set()
    return found


def _nocopy(host: RawObject) -> tuple[str, ...]:
    mounts = host.get("Mounts") or ()
    targets = {
        posixpath.normpath(m.get("Target") or "/")
        for m in mounts
        if (m.get("VolumeOptions") or {}).get("NoCopy")
    }
    targets |= {t for t, flags in _bind_flags(host.get("Binds") or []).items() if "nocopy" in flags}
    return tuple(sorted(targets))


def _selinux(binds: list[str]) -> dict[str, str]:
    return {
        target: flag
        for target, flags in _bind_flags(binds).items()
        for flag in ("z", "Z")
        if flag in flags
    }


def _strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _healthcheck(raw: RawObject | None) -> Healthcheck | None:
    if not raw:
        return None
    return Healthcheck(
        test=_strings(raw.get("Test")),
        interval=raw.get("Interval") or None,
        timeout=raw.get("Timeout") or None,
        retries=raw.get("Retries") or None,
        start_period=raw.get("StartPeriod") or None,
    )


def _restart(policy: RawObject) -> str | None:
    name = policy.get("Name") or ""
    if name in {"", "no"}:
        return None
    retries = int(policy.get("MaximumRetryCount") or 0)
    return f"{name}:{retries}" if name == "on-failure" and retries else name


def _ports(bindings: RawObject) -> tuple[PortBinding, ...]:
    """``PortBindings`` (``{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}``)."""
    ports = []
    for key, hosts in bindings.items():
        port, _, protocol = key.partition("/")
        for host in hosts or [{}]:
            ports.append(
                PortBinding(
                    int(port),
                    protocol or "tcp",
                    host.get("HostIp") or "",
                    host.get("HostPort") or "",
                )
            )
    return tuple(sorted(ports))


def _networks(raw: RawObject) -> tuple[NetworkAttachment, ...]:
    """User-defined networks only: the engine's own modes are ``network_mode``."""
    joined = (raw.get("NetworkSettings") or {}).get("Networks") or {}
    mode = (raw.get("HostConfig") or {}).get("NetworkMode") or ""
    if mode in {"", "default", "bridge", "host", "none"} or mode.startswith("container:"):
        return ()
    short_id = str(raw.get("Id", ""))[:12]
    return tuple(
        NetworkAttachment(
            name, tuple(a for a in (endpoint or {}).get("Aliases") or () if a != short_id)
        )
        for name, endpoint in sorted(joined.items())
    )


def parse_network_names(answer: list[RawObject]) -> list[str]:
    """``GET /networks``: the names only, all a spec can attach to."""
    return sorted(str(raw.get("Name") or "") for raw in answer)


def parse_disk_usage(raw: RawObject) -> DiskUsage:
    sizes = {}
    for volume in raw.get("Volumes") or []:
        size = (volume.get("UsageData") or {}).get("Size", -1)
        if isinstance(size, int) and size >= 0:
            sizes[volume["Name"]] = size
    return DiskUsage(volume_sizes=sizes)
