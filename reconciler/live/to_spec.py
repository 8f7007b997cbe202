"""A live engine -> spec documents, one per project: what ``volplan export`` writes. Pure.

Each container's settings are compared with its image's config and only what differs is
written (command, entrypoint, environment, user, working directory, stop signal, labels,
healthcheck), and the engine's own defaults are left out too (the hostname from the ID,
64 MiB of ``/dev/shm``), so the spec stays short and applies to what runs now. Mounts a
container inherits through ``volumes_from`` are its source's; an anonymous volume at a path
the image declares is the image's (volplan hands both back on a recreate); any other
anonymous volume is written as an anonymous mount, which apply keeps with its data.

Projects: a resource's volplan label, else Compose's (``com.docker.compose.project``), else
``host``. A container's ``volumes_from`` sources go with it; a named volume belongs to its
label's project, else to the first project (by name) whose containers mount it, and the
other projects that mount it declare it ``external``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import labels
from reconciler.container_options import Healthcheck, PortBinding
from reconciler.engine.base import ENGINE_STOP_TIMEOUT
from reconciler.engine.records import ContainerInspect, ContainerSettings, ImageDefaults
from reconciler.errors import ExportError
from reconciler.live.host_snapshot import HostSnapshot
from reconciler.live.status import is_anonymous_name
from reconciler.model import LiveMount, LiveVolume

UNLABELLED_PROJECT = "host"
"""The project of what carries neither volplan's nor Compose's project label."""
ENGINE_SHM_SIZE = 64 * 1024 * 1024
_ENGINE_NETWORK_MODES = frozenset({"", "default"})
_NANOSECONDS = (("h", 3600 * 10**9), ("m", 60 * 10**9), ("s", 10**9), ("ms", 10**6), ("ns", 1))

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ExportedProject:
    """One project's spec document (plain data) and the comments that go with it."""

    name: str
    document: Mapping[str, Any]
    comments: Mapping[Path, str]


def export_projects(snapshot: HostSnapshot, project: str | None = None) -> list[ExportedProject]:
    """Every project on the engine, or only ``project`` (``ExportError`` if nothing is)."""
    owners = _container_projects(snapshot)
    wanted = sorted(set(owners.values()) | set(_volume_projects(snapshot).values()))
    if project is not None:
        if project not in wanted:
            raise ExportError(
                f"no container or volume on the engine belongs to project {project!r} "
                f"(projects found: {', '.join(wanted) or 'none'})"
            )
        wanted = [project]
    homes = _volume_homes(snapshot, owners)
    return [_project(name, snapshot, owners, homes) for name in wanted]


def _label_project(resource_labels: Mapping[str, str]) -> str | None:
    return resource_labels.get(labels.PROJECT) or resource_labels.get(labels.COMPOSE_PROJECT)


def _container_projects(snapshot: HostSnapshot) -> dict[str, str]:
    """Container -> project; a ``volumes_from`` source goes with the first that needs it."""
    owners = {
        name: _label_project(inspected.labels) or UNLABELLED_PROJECT
        for name, inspected in sorted(snapshot.containers.items())
    }
    labelled = {n for n, c in snapshot.containers.items() if _label_project(c.labels)}
    for name in sorted(owners):
        for source in _sources(snapshot, name):
            if source not in labelled:
                owners[source] = owners[name]
    return owners


def _volume_projects(snapshot: HostSnapshot) -> dict[str, str]:
    return {
        name: project
        for name, volume in snapshot.live.volumes.items()
        if (project := _label_project(volume.labels)) is not None and not _is_anonymous(volume)
    }


def _volume_homes(snapshot: HostSnapshot, owners: Mapping[str, str]) -> dict[str, str]:
    """Named volume -> the project that declares it (the others mount it as external)."""
    homes = _volume_projects(snapshot)
    for name in sorted(owners):
        for mount in _own_mounts(snapshot, name):
            if mount.type == "volume" and mount.name and mount.name not in homes:
                volume = snapshot.live.volumes.get(mount.name)
                if volume is not None and not _is_anonymous(volume):
                    homes[mount.name] = owners[name]
    return homes


def _project(
    name: str, snapshot: HostSnapshot, owners: Mapping[str, str], homes: Mapping[str, str]
) -> ExportedProject:
    comments: dict[Path, str] = {}
    containers = [c for c in sorted(owners) if owners[c] == name]
    mounted = {
        m.name
        for c in containers
        for m in _own_mounts(snapshot, c)
        if m.type == "volume" and m.name and m.name in homes
    }
    volumes: dict[str, Any] = {}
    for volume in sorted(mounted | {v for v, home in homes.items() if home == name}):
        volumes[volume] = _volume(snapshot.live.volumes[volume], external=homes[volume] != name)
        note = _volume_note(snapshot.live.volumes[volume], homes[volume], name)
        if note:
            comments[("volumes", volume)] = note
    document: dict[str, Any] = {"version": 1, "project": name}
    if volumes:
        document["volumes"] = volumes
    if containers:
        document["containers"] = {
            c: _container(snapshot, c, ("containers", c), comments) for c in containers
        }
    return ExportedProject(name, document, comments)


def _volume(volume: LiveVolume, *, external: bool) -> dict[str, Any]:
    if external:
        return {"external": True}
    spec: dict[str, Any] = {}
    if volume.driver != "local":
        spec["driver"] = volume.driver
    if volume.driver_opts:
        spec["driver_opts"] = dict(sorted(volume.driver_opts.items()))
    user = labels.user_labels(volume.labels)
    if user:
        spec["labels"] = dict(sorted(user.items()))
    if volume.labels.get(labels.PROTECT) == "true":
        spec["protect"] = True
    return spec


def _volume_note(volume: LiveVolume, home: str, project: str) -> str:
    if home != project:
        return f"declared by project {home}: mounted here, never created or changed"
    if labels.PROJECT in volume.labels:
        return ""
    made = _made_by(volume.labels)
    return f"{made}: apply adopts it as it is, with its data (volumes cannot be relabelled)"


def _made_by(resource_labels: Mapping[str, str]) -> str:
    project = resource_labels.get(labels.COMPOSE_PROJECT)
    if project is None:
        return "made without volplan"
    service = resource_labels.get("com.docker.compose.service")
    return f"made by Compose (project {project}" + (f", service {service})" if service else ")")


def _container(
    snapshot: HostSnapshot, name: str, path: Path, comments: dict[Path, str]
) -> dict[str, Any]:
    inspected = snapshot.containers[name]
    settings = inspected.settings
    image = snapshot.images.get(settings.image_id) or ImageDefaults(id=settings.image_id)
    if labels.PROJECT not in inspected.labels:
        comments[path] = (
            f"{_made_by(inspected.labels)}: apply adopts it (recreates it with its volumes, "
            "so it gains volplan's labels)"
        )
    spec: dict[str, Any] = {"image": settings.image or snapshot.live.containers[name].image}
    spec |= _process(settings, image, inspected.labels)
    if snapshot.live.containers[name].status == "created":
        spec["state"] = "created"
    mounts = _mounts(snapshot, name, image, (*path, "mounts"), comments)
    if mounts:
        spec["mounts"] = mounts
    volumes_from = [_source_entry(snapshot, entry) for entry in inspected.volumes_from]
    if volumes_from:
        spec["volumes_from"] = volumes_from
    spec |= _host(settings, inspected)
    return spec


def _process(
    settings: ContainerSettings, image: ImageDefaults, container_labels: Mapping[str, str]
) -> dict[str, Any]:
    """What the container runs, where its image does not already say so."""
    spec: dict[str, Any] = {}
    if settings.entrypoint != image.entrypoint:
        spec["entrypoint"] = list(settings.entrypoint or ())
        if settings.command:
            spec["command"] = list(settings.command)
    elif settings.command != image.command:
        spec["command"] = list(settings.command or ())
    inherited = set(image.environment)
    environment = dict(
        entry.partition("=")[::2] for entry in settings.environment if entry not in inherited
    )
    if environment:
        spec["environment"] = environment
    user_labels = {
        k: v for k, v in labels.user_labels(container_labels).items() if image.labels.get(k) != v
    }
    if user_labels:
        spec["labels"] = dict(sorted(user_labels.items()))
    if settings.user != image.user:
        spec["user"] = settings.user
    if settings.working_dir not in {image.working_dir, ""}:
        spec["working_dir"] = settings.working_dir
    if settings.stop_signal not in {image.stop_signal, None}:
        spec["stop_signal"] = settings.stop_signal
    if settings.healthcheck is not None and settings.healthcheck != image.healthcheck:
        spec["healthcheck"] = _healthcheck(settings.healthcheck)
    return spec


def _host(settings: ContainerSettings, inspected: ContainerInspect) -> dict[str, Any]:
    """The container's host settings that differ from the engine's defaults."""
    spec: dict[str, Any] = {}
    if settings.networks:
        spec["networks"] = {
            n.name: ({"aliases": list(n.aliases)} if n.aliases else None) for n in settings.networks
        }
    elif settings.network_mode not in _ENGINE_NETWORK_MODES:
        spec["network_mode"] = settings.network_mode
    optional = {
        "restart": settings.restart,
        "stop_timeout": (
            settings.stop_timeout if settings.stop_timeout != ENGINE_STOP_TIMEOUT else None
        ),
        "hostname": settings.hostname if settings.hostname != inspected.id[:12] else None,
        "init": settings.init,
        "shm_size": settings.shm_size if settings.shm_size != ENGINE_SHM_SIZE else None,
        "mem_limit": settings.memory or None,
        "cpus": settings.nano_cpus / 10**9 if settings.nano_cpus else None,
        "pids_limit": settings.pids_limit,
    }
    spec |= {key: value for key, value in optional.items() if value is not None}
    flags = {"publish_all": settings.publish_all, "read_only": settings.read_only}
    spec |= {key: True for key, value in flags.items() if value}
    lists = {
        "tmpfs": dict(sorted(settings.tmpfs.items())),
        "cap_add": list(settings.cap_add),
        "cap_drop": list(settings.cap_drop),
        "ulimits": {
            u.name: u.soft if u.soft == u.hard else {"soft": u.soft, "hard": u.hard}
            for u in settings.ulimits
        },
        "ports": [_port(p) for p in settings.ports],
    }
    spec |= {key: value for key, value in lists.items() if value}
    return spec


def _healthcheck(check: Healthcheck) -> dict[str, Any]:
    if check.test == ("NONE",):
        return {"disable": True}
    timings = {
        "interval": check.interval,
        "timeout": check.timeout,
        "start_period": check.start_period,
    }
    spec: dict[str, Any] = {"test": list(check.test)} if check.test else {}
    spec |= {key: _duration(value) for key, value in timings.items() if value}
    if check.retries:
        spec["retries"] = check.retries
    return spec


def _duration(nanoseconds: int) -> str:
    """``90000000000`` -> ``1m30s``: the largest units that add up to it exactly."""
    parts, left = [], nanoseconds
    for unit, size in _NANOSECONDS:
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts) or "0s"


def _port(port: PortBinding) -> str:
    host = ":".join(part for part in (port.host_ip, port.host_port) if part)
    if port.host_ip and not port.host_port:
        host += ":"
    published = f"{host}:" if host else ""
    protocol = "" if port.protocol == "tcp" else f"/{port.protocol}"
    return f"{published}{port.container_port}{protocol}"


def _source_entry(snapshot: HostSnapshot, entry: str) -> str:
    """A ``volumes_from`` entry by the source's name (the engine keeps what was given, which
    may be an ID)."""
    source, colon, mode = entry.partition(":")
    name = _container_name(snapshot, source)
    return f"{name}{colon}{mode}" if mode != "rw" else name


def _container_name(snapshot: HostSnapshot, reference: str) -> str:
    if reference in snapshot.containers:
        return reference
    return next(
        (n for n, c in snapshot.containers.items() if c.id.startswith(reference)), reference
    )


def _sources(snapshot: HostSnapshot, name: str) -> list[str]:
    entries = snapshot.containers[name].volumes_from
    return [_container_name(snapshot, e.partition(":")[0]) for e in entries]


def _inherited(snapshot: HostSnapshot, name: str) -> set[tuple[str, str]]:
    """(target, volume or host path) of every mount the sources pass on."""
    return {
        (mount.target, mount.name or mount.source)
        for source in _sources(snapshot, name)
        if source in snapshot.containers
        for mount in snapshot.containers[source].settings.mounts
    }


def _own_mounts(snapshot: HostSnapshot, name: str) -> Iterable[LiveMount]:
    inherited = _inherited(snapshot, name)
    return (
        m
        for m in snapshot.containers[name].settings.mounts
        if (m.target, m.name or m.source) not in inherited and m.type in {"volume", "bind"}
    )


def _mounts(
    snapshot: HostSnapshot, name: str, image: ImageDefaults, path: Path, comments: dict[Path, str]
) -> list[Any]:
    mounts: list[Any] = []
    for mount in _own_mounts(snapshot, name):
        volume = snapshot.live.volumes.get(mount.name or "")
        if mount.type == "volume" and (volume is None or _is_anonymous(volume)):
            if _image_volume(mount, volume, image):
                continue
            comments[(*path, len(mounts))] = (
                f"anonymous volume {(mount.name or '?')[:12]}: apply keeps it, with its data"
            )
            mounts.append(
                {"target": mount.target, "read_only": True} if mount.read_only else mount.target
            )
        else:
            mounts.append(_named_or_bind(mount, snapshot.containers[name].settings))
    return mounts


def _image_volume(mount: LiveMount, volume: LiveVolume | None, image: ImageDefaults) -> bool:
    """The image's ``VOLUME`` at this path: volplan mounts it again by itself."""
    if volume is not None and labels.IMAGE_VOLUME in volume.labels:
        return True
    owned = volume is not None and labels.ANONYMOUS_FOR in volume.labels
    return mount.target in image.volumes and not owned


def _named_or_bind(mount: LiveMount, settings: ContainerSettings) -> Any:
    """The short form, ``SOURCE:TARGET[:FLAGS]``; the long one if a colon is in a path."""
    source = mount.name if mount.type == "volume" else mount.source
    fields = {
        "read_only": mount.read_only,
        "propagation": mount.propagation if mount.type == "bind" else "",
        "nocopy": mount.type == "volume" and mount.target in settings.nocopy,
        "selinux": settings.selinux.get(mount.target, ""),
    }
    if fields["propagation"] == "rprivate":
        fields["propagation"] = ""
    if ":" in f"{source}{mount.target}":
        long = {"type": mount.type, "source": source, "target": mount.target}
        return long | {key: value for key, value in fields.items() if value}
    flags = [
        "ro" if fields["read_only"] else "",
        str(fields["propagation"]),
        "nocopy" if fields["nocopy"] else "",
        str(fields["selinux"]),
    ]
    shown = ",".join(flag for flag in flags if flag)
    return f"{source}:{mount.target}" + (f":{shown}" if shown else "")


def _is_anonymous(volume: LiveVolume) -> bool:
    """Docker names an anonymous volume with 64 hex digits; volplan's own say whose they are."""
    return labels.ANONYMOUS_FOR in volume.labels or is_anonymous_name(volume.name)
