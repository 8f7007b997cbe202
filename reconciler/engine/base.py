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

from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.engine.records import ContainerInspect, DiskUsage
from reconciler.model import EngineInfo, ImageConfig, LiveContainer, LiveImage, LiveVolume, Mount

DEFAULT_HELPER_IMAGE = "busybox:latest"
"""Image of the never-started helper containers that move volume content and hold locks."""

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


class Engine(Protocol):
    def info(self) -> EngineInfo: ...

    def list_volumes(self) -> list[LiveVolume]: ...

    def list_containers(self) -> list[LiveContainer]: ...

    def list_images(self) -> list[LiveImage]:
        """``GET /images/json``: every image's ID with the tags and digests that name it."""
        ...

    def inspect_image(self, ref: str) -> ImageConfig:
        """``GET /images/{ref}/json``: the image's config (Volumes, StopSignal…)."""
        ...

    def inspect_container(self, ref: str) -> ContainerInspect:
        """``GET /containers/{ref}/json``: HostConfig (VolumesFrom…) the list call lacks."""
        ...

    def disk_usage(self) -> DiskUsage:
        """``GET /system/df``: the only place the engine reports volume sizes; can be slow."""
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

    def get_archive(self, ref: str, path: str) -> Generator[bytes, None, None]:
        """Stream a tar of ``path`` in a container (created or running); closing the
        iterator ends the transfer."""
        ...

    def put_archive(self, ref: str, path: str, chunks: Iterable[bytes]) -> None:
        """Stream a tar into directory ``path`` of a container, extracting it there."""
        ...


READS = frozenset(
    {
        "info",
        "list_volumes",
        "list_containers",
        "inspect_container",
        "list_images",
        "inspect_image",
        "disk_usage",
        "image_present",
        "get_archive",
    }
)
"""Calls that change nothing on the engine: retried on transient errors, never a kill point."""

IDEMPOTENT_WRITES = frozenset({"start_container", "stop_container"})
"""Changes that a repeat cannot make twice (the engine answers a second start or stop with
304, which counts as success): retried, and each one is a kill point."""

MUTATING_WRITES = frozenset(
    {
        "create_volume",
        "remove_volume",
        "create_container",
        "rename_container",
        "remove_container",
        "pull_image",
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
    """Pull ``image`` unless the engine has it: called before anything is changed, so a bad
    image name or an unreachable registry touches nothing."""
    if not engine.image_present(image):
        engine.pull_image(image, progress)
