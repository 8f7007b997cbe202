"""The interface every Engine API call goes through, the requests it takes, and what kind
of call each method is. Pure.

Reads return typed records (``reconciler.model``'s live types and ``engine.records``),
parsed from Docker's JSON by ``engine.records`` alone, which the fake engine parses its
answers with too, so the two cannot drift apart.

Each method of ``Engine`` is in exactly one of ``READS``, ``IDEMPOTENT_WRITES`` and
``MUTATING_WRITES`` (a unit test checks it), and every wrapper derives its policy from
them: the retries, the crash test's kill points and the fake's record of mutations. A
method missing from all three is treated as the riskiest kind by each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.container_options import ContainerOptions
from reconciler.engine.records import ContainerInspect, DiskUsage, EngineEvent, ImageDefaults
from reconciler.model import EngineInfo, ImageConfig, LiveContainer, LiveImage, LiveVolume, Mount

DEFAULT_HELPER_IMAGE = "volplan-helper:empty"
"""Image of the never-started helper containers that move volume content and hold locks.

It holds no file at all: volplan imports it on the engine from an empty archive when it is
missing (see ``ensure_image``), so no registry is ever needed for volplan's own work.
Nothing runs in a helper; the engine's archive endpoints move the data, and every check
of what they moved is made by volplan itself, on the client.
"""

EMPTY_ARCHIVE = bytes(1024)
"""A tar with no entry: its two zero end-of-archive blocks."""

HELPER_COMMAND = "volplan-helper"
"""The helper image's CMD: a container needs one to be created, and it is never started."""

ENGINE_STOP_TIMEOUT = 10
"""Seconds a stop waits for a container without ``stop_timeout`` before it kills it:
dockerd's default. volplan sends it at create, since Podman (4.3) gives a container created
through the Docker API without one a StopTimeout of 0, which makes every stop a SIGKILL."""

MAX_CONCURRENT_CALLS = 32
"""An ``Engine`` must take this many calls at once from different threads (parallel apply)."""


@dataclass(frozen=True)
class VolumeCreate:
    name: str
    driver: str
    driver_opts: Mapping[str, str]
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ContainerCreate:
    """A container to create; anonymous mounts arrive already named (see labels.py)."""

    name: str
    image: str
    command: tuple[str, ...] | None
    labels: Mapping[str, str]
    mounts: tuple[Mount, ...]
    volumes_from: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    network_mode: str | None = None
    restart: str | None = None
    publish_all: bool = False
    stop_signal: str | None = None
    stop_timeout: int | None = None
    options: ContainerOptions = field(default_factory=ContainerOptions)


@dataclass(frozen=True)
class EngineLists:
    """What describes the whole engine: its info and the volume, container and image lists."""

    info: EngineInfo
    volumes: list[LiveVolume]
    containers: list[LiveContainer]
    images: list[LiveImage]


class Engine(Protocol):
    def info(self) -> EngineInfo: ...

    def list_volumes(self) -> list[LiveVolume]: ...

    def list_containers(self) -> list[LiveContainer]: ...

    def list_all(self) -> EngineLists:
        """``info`` and the three lists, asked at once: the engine works on them together."""
        ...

    def list_images(self) -> list[LiveImage]:
        """``GET /images/json``: every image's ID with the tags and digests that name it."""
        ...

    def inspect_image(self, ref: str) -> ImageConfig:
        """``GET /images/{ref}/json``: the image's config (Volumes, StopSignal…)."""
        ...

    def image_defaults(self, ref: str) -> ImageDefaults:
        """``GET /images/{ref}/json``: all the defaults a container inherits (Cmd, Env…),
        for ``volplan export``, which leaves them out."""
        ...

    def inspect_container(self, ref: str) -> ContainerInspect:
        """``GET /containers/{ref}/json``: HostConfig (VolumesFrom…) the list call lacks."""
        ...

    def disk_usage(self) -> DiskUsage:
        """``GET /system/df``: the only place the engine reports volume sizes; can be slow."""
        ...

    def list_networks(self) -> list[str]:
        """``GET /networks``: the names; read only when a spec names a network."""
        ...

    def events(
        self, since: float, until: float, filters: Mapping[str, Sequence[str]]
    ) -> Iterator[EngineEvent]:
        """``GET /events``: what happens on the engine from ``since`` (seconds since the
        epoch; the engine replays its recent past) as it happens, until ``until``, when the
        engine ends the stream. ``filters`` as the API takes them: different keys must all
        match, the values of one key are alternatives. Closing the iterator ends the request."""
        ...

    def create_volume(self, request: VolumeCreate) -> None: ...

    def remove_volume(self, name: str) -> None: ...

    def create_container(self, request: ContainerCreate) -> str: ...

    def start_container(self, ref: str) -> None: ...

    def stop_container(self, ref: str, timeout: int | None) -> None: ...

    def rename_container(self, ref: str, new_name: str) -> None: ...

    def remove_container(self, ref: str) -> None: ...

    def image_present(self, image: str) -> bool: ...

    def pull_image(self, image: str, progress: Callable[[str], None]) -> None: ...

    def import_image(self, image: str, archive: bytes, changes: tuple[str, ...]) -> None:
        """``POST /images/create?fromSrc=-``: an image made from a root-filesystem tar, with
        Dockerfile-style ``changes`` (``CMD [...]``); needs no registry."""
        ...

    def get_archive(self, ref: str, path: str) -> Generator[bytes, None, None]:
        """Stream a tar of ``path`` in a container (created or running); closing the
        iterator ends the transfer."""
        ...

    def put_archive(self, ref: str, path: str, chunks: Iterable[bytes]) -> None:
        """Stream a tar into directory ``path`` of a container, extracting it there."""
        ...

    def put_file(self, ref: str, path: str, content: bytes) -> None:
        """Write one small regular file (mode 0644) at absolute ``path`` of a container,
        through the archive endpoint; writing it again with the same content changes nothing."""
        ...

    def service_logs(self, service: str) -> bytes:
        """``GET /services/{service}/logs?stdout=1&details=1&timestamps=1&tail=100``: the
        end of the stdout of every task of a Swarm service, which a manager gathers from
        all nodes, as the Engine API sends it (``live.fleet_reports`` parses it)."""
        ...


READS = frozenset(
    {
        "info",
        "list_volumes",
        "list_containers",
        "list_all",
        "inspect_container",
        "list_images",
        "inspect_image",
        "image_defaults",
        "disk_usage",
        "list_networks",
        "image_present",
        "get_archive",
        "events",
        "service_logs",
    }
)
"""Calls that change nothing on the engine: retried on transient errors, never a kill point."""

IDEMPOTENT_WRITES = frozenset({"start_container", "stop_container", "put_file"})
"""Changes that a repeat cannot make twice (the engine answers a second start or stop with
304, which counts as success; a file written again with the same content is the same
file): retried, and each one is a kill point."""

MUTATING_WRITES = frozenset(
    {
        "create_volume",
        "remove_volume",
        "create_container",
        "rename_container",
        "remove_container",
        "pull_image",
        "import_image",
        "put_archive",
    }
)
"""Changes that must not be repeated: if a first attempt timed out it may have happened, and
a second could act twice or conflict with itself (a pull streams progress a repeat would
show again, and its failures are the registry's, rarely transient). Never retried; each
one is a kill point."""

ENGINE_METHODS = frozenset(name for name in vars(Engine) if not name.startswith("_"))
"""Every method of the ``Engine`` protocol; wrappers pass anything else through untouched."""


def ensure_image(engine: Engine, image: str, progress: Callable[[str], None]) -> None:
    """Make sure the engine has ``image``: called before anything is changed, so a bad image
    name or an unreachable registry touches nothing. volplan's own helper image is imported
    from an empty archive; any other is pulled."""
    if engine.image_present(image):
        return
    if image == DEFAULT_HELPER_IMAGE:
        engine.import_image(image, EMPTY_ARCHIVE, (f'CMD ["{HELPER_COMMAND}"]',))
    else:
        engine.pull_image(image, progress)
