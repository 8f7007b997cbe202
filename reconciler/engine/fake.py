"""An in-memory ``Engine`` that answers like Docker 20.10, for unit tests and fault injection.

Its state is kept in the engine's own JSON shapes, and its reads answer through
``engine.records``, the parser the adapter uses, so a fake answer cannot be parsed
differently from a real one.

It mirrors the engine rules volplan depends on: names are unique (409), a volume in use by
any container cannot be removed (409), ``volumes_from`` copies the source's mount points
with ``RW = source.RW and mode``, creating an existing volume with the same driver is a
no-op, and unknown references are 404s.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import posixpath
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.engine import records
from reconciler.engine.base import READS, ContainerCreate, EngineLists, VolumeCreate
from reconciler.engine.one_file_tar import tar_of_file
from reconciler.engine.options_body import (
    config_fields,
    endpoint_config,
    host_config_fields,
    networking_config,
)
from reconciler.engine.records import ContainerInspect, DiskUsage, ImageDefaults, RawObject
from reconciler.errors import EngineConflict, EngineError, EngineNotFound
from reconciler.model import (
    EngineInfo,
    ImageConfig,
    LiveContainer,
    LiveImage,
    LiveVolume,
    Mount,
    MountKind,
)

FAKE_INFO = EngineInfo(
    endpoint="fake://engine",
    daemon_id="FAKE:DAEMON",
    name="fake",
    server_version="20.10.24",
    api_version="1.41",
    is_local=False,
)


@dataclass
class FakeEngine:
    images: set[str] = field(default_factory=lambda: {"busybox"})
    """References of the images the engine holds."""
    image_configs: dict[str, RawObject] = field(default_factory=dict)
    """An image's Config (``{"Volumes": {"/data": {}}}``…) by reference; default: empty."""
    image_ids: dict[str, str] = field(default_factory=dict)
    """An image's ID by reference; default: derived from the reference and its config.
    Setting another ID for a reference is a tag that moved to a new image."""
    pullable: set[str] = field(default_factory=set)
    volumes: dict[str, RawObject] = field(default_factory=dict)
    containers: dict[str, RawObject] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    """Every call as (method, subject), reads included, in order."""
    volumes_from: dict[str, list[str]] = field(default_factory=dict)
    """HostConfig.VolumesFrom by container ID: only inspect shows it, not the list."""
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)
    """Files written by ``put_file``, by container ID and path."""
    networks: set[str] = field(default_factory=lambda: {"bridge", "host", "none"})
    created: dict[str, RawObject] = field(default_factory=dict)
    """The create request's body by container ID, as the Engine API receives it, and the
    networks connected afterwards under ``"Connected"``."""
    health: dict[str, str] = field(default_factory=dict)
    """``State.Health.Status`` by container name, for those created with a healthcheck
    (default: healthy); ``exit_codes`` likewise for ``State.ExitCode``."""
    exit_codes: dict[str, int] = field(default_factory=dict)
    service_log_bytes: dict[str, bytes] = field(default_factory=dict)
    """What ``service_logs`` answers, by service name; a service not listed is a 404."""
    fault: Callable[[str, str], None] | None = None
    """Called before each mutating call; raise from it to inject a failure."""
    event_log: list[RawObject] = field(default_factory=list)
    """``/events`` messages as the engine sends them, for ``events`` to answer from."""
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def mutations(self) -> list[tuple[str, str]]:
        """Every call but the reads (``base.READS``), in order."""
        return [call for call in self.calls if call[0] not in READS]

    def _record(self, method: str, subject: str = "", *, mutating: bool = True) -> None:
        self.calls.append((method, subject))
        if mutating and self.fault is not None:
            self.fault(method, subject)

    def info(self) -> EngineInfo:
        self._record("info", mutating=False)
        return FAKE_INFO

    def list_volumes(self) -> list[LiveVolume]:
        self._record("list_volumes", mutating=False)
        return records.parse_volume_list({"Volumes": list(self.volumes.values())})

    def list_containers(self) -> list[LiveContainer]:
        self._record("list_containers", mutating=False)
        return records.parse_container_list(list(self.containers.values()))

    def list_all(self) -> EngineLists:
        return EngineLists(
            self.info(), self.list_volumes(), self.list_containers(), self.list_images()
        )

    def list_images(self) -> list[LiveImage]:
        self._record("list_images", mutating=False)
        by_id: dict[str, list[str]] = {}
        for reference in sorted(self.images):
            by_id.setdefault(self.image_id(reference), []).append(reference)
        return records.parse_image_list(
            [
                {"Id": image_id, "RepoTags": tags, "RepoDigests": None}
                for image_id, tags in by_id.items()
            ]
        )

    def inspect_image(self, ref: str) -> ImageConfig:
        self._record("inspect_image", ref, mutating=False)
        return records.parse_image_inspect(self._image(ref))

    def image_defaults(self, ref: str) -> ImageDefaults:
        self._record("image_defaults", ref, mutating=False)
        return records.parse_image_defaults(self._image(ref))

    def _image(self, ref: str) -> RawObject:
        reference = next((r for r in sorted(self.images) if ref in {r, self.image_id(r)}), None)
        if reference is None:
            raise EngineNotFound(f"inspecting image {ref}: no such image")
        return {
            "Id": self.image_id(reference),
            "RepoTags": [reference],
            "Config": dict(self.image_configs.get(reference, {})),
        }

    def image_id(self, reference: str) -> str:
        """As in Docker, a digest of the config: another config is another image."""
        config = json.dumps([reference, self.image_configs.get(reference, {})], sort_keys=True)
        derived = "sha256:" + hashlib.sha256(config.encode()).hexdigest()
        return self.image_ids.get(reference, derived)

    def inspect_container(self, ref: str) -> ContainerInspect:
        self._record("inspect_container", ref, mutating=False)
        container = self._get(ref, "inspecting")
        return records.parse_container_inspect(
            {
                "Id": container["Id"],
                "Name": container["Names"][0],
                "Config": {"Image": container["Image"], "Labels": dict(container["Labels"])},
                "HostConfig": {"VolumesFrom": self.volumes_from.get(container["Id"]) or None},
                "Mounts": [dict(m) for m in container["Mounts"]],
                "State": self._state(container),
            }
        )

    def _state(self, container: RawObject) -> RawObject:
        name = container["Names"][0].lstrip("/")
        check = self.created.get(container["Id"], {}).get("Healthcheck")
        has_check = check is not None and check.get("Test") != ["NONE"]
        return {
            "Status": container["State"],
            "ExitCode": self.exit_codes.get(name, 0),
            "Health": {"Status": self.health.get(name, "healthy")} if has_check else None,
        }

    def disk_usage(self) -> DiskUsage:
        """Sizes are unknown (-1), as the engine reports for volumes it cannot measure."""
        self._record("disk_usage", mutating=False)
        return records.parse_disk_usage(
            {
                "Volumes": [
                    {**v, "UsageData": {"Size": -1, "RefCount": self._users(v["Name"])}}
                    for v in self.volumes.values()
                ]
            }
        )

    def list_networks(self) -> list[str]:
        self._record("list_networks", mutating=False)
        return records.parse_network_names([{"Name": name} for name in self.networks])

    def events(
        self, since: float, until: float, filters: Mapping[str, Sequence[str]]
    ) -> Iterator[records.EngineEvent]:
        """The messages of ``event_log`` from ``since`` to ``until`` that pass ``filters``'
        ``type`` and ``event`` keys (the only ones volplan sends)."""
        self._record("events", mutating=False)
        for raw in self.event_log:
            event = records.parse_event(raw)
            if since <= event.time <= until and all(
                value in filters.get(key, (value,))
                for key, value in (("type", event.type), ("event", event.action))
            ):
                yield event

    def _users(self, volume: str) -> int:
        return sum(_uses(c, volume) for c in self.containers.values())

    def create_volume(self, request: VolumeCreate) -> None:
        self._record("create_volume", request.name)
        existing = self.volumes.get(request.name)
        if existing is not None:
            if existing["Driver"] != request.driver:
                raise EngineConflict(f"creating volume {request.name}: volume name must be unique")
            return
        self.volumes[request.name] = _volume(
            request.name, request.driver, request.driver_opts, request.labels
        )

    def remove_volume(self, name: str) -> None:
        self._record("remove_volume", name)
        if name not in self.volumes:
            raise EngineNotFound(f"removing volume {name}: no such volume")
        users = [c["Id"] for c in self.containers.values() if _uses(c, name)]
        if users:
            raise EngineConflict(f"removing volume {name}: volume is in use - {users}")
        del self.volumes[name]

    def create_container(self, request: ContainerCreate) -> str:
        self._record("create_container", request.name)
        if self._find(request.name) is not None:
            raise EngineConflict(f"creating container {request.name}: name already in use")
        if request.image not in self.images:
            raise EngineNotFound(f"creating container {request.name}: no such image")
        body = self._request_body(request)
        mounts = self._inherited(request.volumes_from)
        for mount in request.mounts:
            mounts[mount.target] = self._mount_point(mount)
        container_id = f"{next(self._ids):064x}"
        for declared in self.image_configs.get(request.image, {}).get("Volumes") or {}:
            target = posixpath.normpath(declared)  # the daemon cleans the path too
            if target not in mounts:  # the engine makes a volume of its own, as Docker does
                name = hashlib.sha256(f"{container_id}{target}".encode()).hexdigest()
                self.volumes[name] = _volume(name)
                mounts[target] = self._mount_point(Mount(target, MountKind.VOLUME, name))
        self.containers[container_id] = {
            "Id": container_id,
            "Names": [f"/{request.name}"],
            "Image": request.image,
            "ImageID": self.image_id(request.image),
            "State": "created",
            "Labels": dict(request.labels),
            "Mounts": list(mounts.values()),
        }
        self.volumes_from[container_id] = list(request.volumes_from)
        self.created[container_id] = body
        return container_id

    def _request_body(self, request: ContainerCreate) -> RawObject:
        """The option fields of the create request, and the networks joined after it."""
        missing = [n.name for n in request.options.networks if n.name not in self.networks]
        if missing:
            raise EngineNotFound(
                f"creating container {request.name}: network {missing[0]} not found"
            )
        return {
            **config_fields(request.options),
            "HostConfig": host_config_fields(request.options),
            "NetworkingConfig": networking_config(request.options),
            "Connected": {n.name: endpoint_config(n.aliases) for n in request.options.networks[1:]},
        }

    def start_container(self, ref: str) -> None:
        self._record("start_container", ref)
        self._get(ref, "starting")["State"] = "running"

    def stop_container(self, ref: str, timeout: int | None) -> None:
        self._record("stop_container", ref)
        container = self._get(ref, "stopping")
        if container["State"] == "running":
            container["State"] = "exited"

    def rename_container(self, ref: str, new_name: str) -> None:
        self._record("rename_container", ref)
        container = self._get(ref, "renaming")
        if self._find(new_name) is not None:
            raise EngineConflict(f"renaming container {ref}: name {new_name} already in use")
        container["Names"] = [f"/{new_name}"]

    def remove_container(self, ref: str) -> None:
        self._record("remove_container", ref)
        container = self._get(ref, "removing")
        if container["State"] == "running":
            raise EngineConflict(f"removing container {ref}: container is running")
        del self.containers[container["Id"]]
        self.files.pop(container["Id"], None)

    def image_present(self, image: str) -> bool:
        self._record("image_present", image, mutating=False)
        return image in self.images

    def pull_image(self, image: str, progress: Callable[[str], None]) -> None:
        self._record("pull_image", image)
        if image not in self.pullable:
            raise EngineError(f"pulling image {image}: repository does not exist")
        progress("Downloaded newer image")
        self.images.add(image)

    def import_image(self, image: str, archive: bytes, changes: tuple[str, ...]) -> None:
        self._record("import_image", image)
        self.images.add(image)

    def get_archive(self, ref: str, path: str) -> Generator[bytes, None, None]:
        """The file at ``path`` written by ``put_file`` (the rest of a container's tree is not
        kept), as a tar; 404 when absent."""
        self._record("get_archive", ref, mutating=False)
        container = self._get(ref, "reading from")
        files = self.files.get(container["Id"], {})
        name = path.strip("/")
        if name not in files:
            raise EngineNotFound(f"reading {path} from container {ref}: no such file")
        yield tar_of_file(posixpath.basename(name), files[name])

    def put_file(self, ref: str, path: str, content: bytes) -> None:
        self._record("put_file", ref)
        container = self._get(ref, "writing into")
        self.files.setdefault(container["Id"], {})[path.strip("/")] = content

    def service_logs(self, service: str) -> bytes:
        self._record("service_logs", service, mutating=False)
        if service not in self.service_log_bytes:
            raise EngineNotFound(f"reading the logs of service {service}: service not found")
        return self.service_log_bytes[service]

    def put_archive(self, ref: str, path: str, chunks: Iterable[bytes]) -> None:
        self._record("put_archive", ref)
        raise EngineError(f"writing {path} of {ref}: the fake engine holds no file content")

    def _find(self, ref: str) -> RawObject | None:
        for container in self.containers.values():
            if container["Id"] == ref or container["Names"][0] == f"/{ref}":
                return container
        return None

    def _get(self, ref: str, doing: str) -> RawObject:
        container = self._find(ref)
        if container is None:
            raise EngineNotFound(f"{doing} container {ref}: no such container")
        return container

    def _inherited(self, volumes_from: tuple[str, ...]) -> dict[str, RawObject]:
        mounts: dict[str, RawObject] = {}
        for entry in volumes_from:
            name, _, mode = entry.partition(":")
            source = self._get(name, "resolving volumes_from")
            for mount in source["Mounts"]:
                mounts[mount["Destination"]] = {**mount, "RW": mount["RW"] and mode != "ro"}
        return mounts

    def _mount_point(self, mount: Mount) -> RawObject:
        if mount.kind is MountKind.BIND:
            return {
                "Type": "bind",
                "Source": mount.source,
                "Destination": mount.target,
                "Mode": "",
                "RW": not mount.read_only,
                "Propagation": mount.propagation or "rprivate",
            }
        name = str(mount.source)
        if name not in self.volumes:
            self.create_volume(VolumeCreate(name, "local", {}, {}))
        return {
            "Type": "volume",
            "Name": name,
            "Source": f"/var/lib/docker/volumes/{name}/_data",
            "Destination": mount.target,
            "Driver": "local",
            "Mode": "z",
            "RW": not mount.read_only,
            "Propagation": "",
        }


def _volume(
    name: str,
    driver: str = "local",
    options: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> RawObject:
    return {
        "Name": name,
        "Driver": driver,
        "Options": dict(options or {}) or None,
        "Labels": dict(labels or {}) or None,
        "Mountpoint": f"/var/lib/docker/volumes/{name}/_data",
        "Scope": "local",
    }


def _uses(container: RawObject, volume: str) -> bool:
    mounts: list[dict[str, Any]] = container["Mounts"]
    return any(m.get("Name") == volume for m in mounts)
