"""Retries of engine calls that cannot take effect twice, with a bounded backoff.

What is retried derives from ``base``'s method sets: the reads, and the idempotent writes
(starting or stopping a container: the engine answers a repeat with 304, which counts as
success). A mutating write (create, rename, remove) is never retried: if its first attempt
timed out, it may have happened, and a second could act twice or report a conflict with
itself. Nor is a method missing from the sets. Transient means the engine could not be
reached, timed out, or failed internally (5xx).

A stream (``get_archive``) sends its request when its first chunk is read, after the call
has returned, so its failures surface to whoever reads it and are not retried here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from reconciler.engine.base import IDEMPOTENT_WRITES, READS, Engine
from reconciler.errors import EngineServerError, EngineTimeout, EngineUnreachable

T = TypeVar("T")
TRANSIENT = (EngineUnreachable, EngineTimeout, EngineServerError)
RETRIED = READS | IDEMPOTENT_WRITES
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

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._engine, name)
        if name not in RETRIED:
            return method

        def retried(*args: Any, **kwargs: Any) -> Any:
            return self._retry(lambda: method(*args, **kwargs))

        return retried

    def _retry(self, call: Callable[[], T]) -> T:
        delay = self._first_delay
        for _ in range(self._attempts - 1):
            try:
                return call()
            except TRANSIENT:
                self._sleep(delay)
                delay *= 2
        return call()
