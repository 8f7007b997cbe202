"""The interface every Engine API call goes through, and the requests it takes. Pure.

Reads return the engine's own JSON shapes (as the list endpoints answer them), so the
live reader that normalises them is pure and the fake engine can mimic them exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.model import EngineInfo, Mount

RawObject = dict[str, Any]

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

    def list_volumes(self) -> list[RawObject]: ...

    def list_containers(self) -> list[RawObject]: ...

    def list_images(self) -> list[RawObject]:
        """``GET /images/json``: every image's ID with the tags and digests that name it."""
        ...

    def inspect_image(self, ref: str) -> RawObject:
        """``GET /images/{ref}/json``: the image's config (Volumes, StopSignal…)."""
        ...

    def inspect_container(self, ref: str) -> RawObject:
        """``GET /containers/{ref}/json``: HostConfig (VolumesFrom…) the list call lacks."""
        ...

    def disk_usage(self) -> RawObject:
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


def ensure_image(engine: Engine, image: str, progress: Callable[[str], None]) -> None:
    """Pull ``image`` unless the engine has it: called before anything is changed, so a bad
    image name or an unreachable registry touches nothing."""
    if not engine.image_present(image):
        engine.pull_image(image, progress)
