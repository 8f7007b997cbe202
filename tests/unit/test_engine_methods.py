"""The engine's method sets in ``engine/base.py`` are complete, and the wrappers obey them.

A method added to the ``Engine`` protocol without a kind fails here first; and even before
it has one, the crash hook makes it a kill point and the retries leave it alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

from reconciler.engine import crash_hook
from reconciler.engine.adapter import DockerEngine
from reconciler.engine.base import (
    ENGINE_METHODS,
    IDEMPOTENT_WRITES,
    MUTATING_WRITES,
    READS,
    Engine,
)
from reconciler.engine.retry import RetryingEngine
from reconciler.errors import EngineTimeout

SETS = {"reads": READS, "idempotent writes": IDEMPOTENT_WRITES, "mutating writes": MUTATING_WRITES}


def test_every_engine_method_has_exactly_one_kind() -> None:
    kinds = {name: [k for k, members in SETS.items() if name in members] for name in ENGINE_METHODS}
    assert {name: found for name, found in kinds.items() if len(found) != 1} == {}
    assert READS | IDEMPOTENT_WRITES | MUTATING_WRITES == ENGINE_METHODS  # no stale names


def test_the_protocol_methods_are_found() -> None:
    assert {"info", "create_volume", "get_archive", "put_archive"} <= ENGINE_METHODS
    assert all(callable(getattr(DockerEngine, name)) for name in ENGINE_METHODS)


class Recorder:
    """An engine whose every method records its call and then runs ``outcome``."""

    def __init__(self, outcome: Callable[[], Any] = lambda: None) -> None:
        self.calls: list[str] = []
        self._outcome = outcome

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def method(*args: Any) -> Any:
            self.calls.append(name)
            return self._outcome()

        return method


def test_the_crash_hook_kills_after_every_write_and_no_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kills: list[int] = []
    monkeypatch.setattr(
        "reconciler.engine.crash_hook.os.kill", lambda pid, signal: kills.append(pid)
    )
    engine = crash_hook.with_crash_hook(cast(Engine, Recorder()), {crash_hook.KILL_AFTER: "1"})
    killed_after = set()
    for name in sorted(ENGINE_METHODS):
        before = len(kills)
        getattr(engine, name)()
        if len(kills) > before:
            killed_after.add(name)
    assert killed_after == IDEMPOTENT_WRITES | MUTATING_WRITES


def test_the_crash_hook_leaves_what_is_not_an_engine_method_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kills: list[int] = []
    monkeypatch.setattr(
        "reconciler.engine.crash_hook.os.kill", lambda pid, signal: kills.append(pid)
    )
    engine: Any = crash_hook.with_crash_hook(cast(Engine, Recorder()), {crash_hook.KILL_AFTER: "1"})
    engine.close()
    assert kills == []


def _time_out() -> None:
    raise EngineTimeout("injected")


def test_reads_and_idempotent_writes_are_retried_mutating_writes_are_not() -> None:
    attempts = {}
    for name in sorted(ENGINE_METHODS):
        inner = Recorder(_time_out)
        with pytest.raises(EngineTimeout):
            getattr(RetryingEngine(cast(Engine, inner), sleep=lambda s: None), name)()
        attempts[name] = len(inner.calls)
    assert {n for n, count in attempts.items() if count == 4} == READS | IDEMPOTENT_WRITES
    assert {n for n, count in attempts.items() if count == 1} == MUTATING_WRITES
