"""Retries of engine calls that cannot take effect twice, with a bounded backoff.

Only reads are retried, and starting or stopping a container (the engine answers a repeat
with 304, which counts as success). A create, rename or remove is never retried: if its
first attempt timed out, it may have happened, and a second could act twice or report a
conflict with itself. Transient means the engine could not be reached, timed out, or
failed internally (5xx).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

from reconciler.engine.base import ContainerCreate, Engine, RawObject, VolumeCreate
from reconciler.errors import EngineServerError, EngineTimeout, EngineUnreachable
from reconciler.model import EngineInfo

T = TypeVar("T")
TRANSIENT = (EngineUnreachable, EngineTimeout, EngineServerError)
ATTEMPTS = 4
FIRST_DELAY_SECONDS = 0.25


class RetryingEngine:
    """An ``Engine`` that retries idempotent calls on transient errors: at most ``attempts``
    tries, waiting ``first_delay`` seconds, then twice as long each time (1.75 s in all)."""

    def __init__(
        self,
        engine: Engine,
        *,
        attempts: int = ATTEMPTS,
        first_delay: float = FIRST_DELAY_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._engine = engine
        self._attempts = attempts
        self._first_delay = first_delay
        self._sleep = sleep

    def _retry(self, call: Callable[[], T]) -> T:
        delay = self._first_delay
        for _ in range(self._attempts - 1):
            try:
                return call()
            except TRANSIENT:
                self._sleep(delay)
                delay *= 2
        return call()

    def info(self) -> EngineInfo:
        return self._retry(self._engine.info)

    def list_volumes(self) -> list[RawObject]:
        return self._retry(self._engine.list_volumes)

    def list_containers(self) -> list[RawObject]:
        return self._retry(self._engine.list_containers)

    def inspect_container(self, ref: str) -> RawObject:
        return self._retry(lambda: self._engine.inspect_container(ref))

    def list_images(self) -> list[RawObject]:
        return self._retry(self._engine.list_images)

    def inspect_image(self, ref: str) -> RawObject:
        return self._retry(lambda: self._engine.inspect_image(ref))

    def disk_usage(self) -> RawObject:
        return self._retry(self._engine.disk_usage)

    def image_present(self, image: str) -> bool:
        return self._retry(lambda: self._engine.image_present(image))

    def start_container(self, ref: str) -> None:
        self._retry(lambda: self._engine.start_container(ref))

    def stop_container(self, ref: str, timeout: int | None) -> None:
        self._retry(lambda: self._engine.stop_container(ref, timeout))

    def create_volume(self, request: VolumeCreate) -> None:
        self._engine.create_volume(request)

    def remove_volume(self, name: str) -> None:
        self._engine.remove_volume(name)

    def create_container(self, request: ContainerCreate) -> str:
        return self._engine.create_container(request)

    def rename_container(self, ref: str, new_name: str) -> None:
        self._engine.rename_container(ref, new_name)

    def remove_container(self, ref: str) -> None:
        self._engine.remove_container(ref)

    def pull_image(self, image: str, progress: Callable[[str], None]) -> None:
        self._engine.pull_image(image, progress)

    def get_archive(self, ref: str, path: str) -> Generator[bytes, None, None]:
        return self._engine.get_archive(ref, path)

    def put_archive(self, ref: str, path: str, chunks: Iterable[bytes]) -> None:
        self._engine.put_archive(ref, path, chunks)
