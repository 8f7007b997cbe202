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
from dataclasses import dataclass
from typing import Any

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


def parse_container_inspect(raw: RawObject) -> ContainerInspect:
    return ContainerInspect(
        id=str(raw.get("Id", "")),
        name=str(raw.get("Name", "")).lstrip("/"),
        labels=dict((raw.get("Config") or {}).get("Labels") or {}),
        volumes_from=tuple((raw.get("HostConfig") or {}).get("VolumesFrom") or ()),
        status=str((raw.get("State") or {}).get("Status") or ""),
        health=((raw.get("State") or {}).get("Health") or {}).get("Status"),
        exit_code=int((raw.get("State") or {}).get("ExitCode") or 0),
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
