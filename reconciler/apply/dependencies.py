"""Waiting for a container's ``depends_on`` before it starts, as ``docker compose up`` does.

``service_started``: the dependency runs; ``service_healthy``: its healthcheck reports
healthy; ``service_completed_successfully``: it has exited with code 0. A dependency that
can no longer get there (it exited, it failed, it has no healthcheck) fails at once; one
that is still on its way is polled until the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.container_options import Condition, Dependency
from reconciler.engine.base import Engine
from reconciler.engine.records import ContainerInspect
from reconciler.errors import DependencyError

POLL_SECONDS = 0.25
DEFAULT_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Waiting:
    """How long to wait, and the clock to wait with (tests pass their own)."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def wait_for_dependencies(
    engine: Engine,
    name: str,
    dependencies: tuple[Dependency, ...],
    waiting: Waiting = Waiting(),
) -> None:
    """Return once every dependency of container ``name`` is in its state; raise
    ``DependencyError`` otherwise."""
    deadline = waiting.clock() + waiting.timeout
    for dependency in dependencies:
        while not _reached(engine.inspect_container(dependency.container), dependency, name):
            if waiting.clock() >= deadline:
                raise DependencyError(
                    f"container {name} waits for {dependency.container} to be "
                    f"{dependency.condition.state} ({dependency.condition.value}): not so "
                    f"after {waiting.timeout:g} s; nothing more was started"
                )
            waiting.sleep(POLL_SECONDS)


def _reached(state: ContainerInspect, dependency: Dependency, name: str) -> bool:
    """Whether ``state`` meets the condition; raises when it never will."""
    condition = dependency.condition
    exited = state.status in {"exited", "dead"}
    if condition is Condition.COMPLETED:
        if exited and state.exit_code != 0:
            _fail(name, dependency, f"exited with code {state.exit_code}")
        return exited
    if exited:
        _fail(name, dependency, f"exited with code {state.exit_code}")
    if condition is Condition.STARTED:
        return state.status == "running"
    if state.health is None:
        _fail(name, dependency, "has no healthcheck")
    if state.health == "unhealthy":
        _fail(name, dependency, "is unhealthy")
    return state.health == "healthy"


def _fail(name: str, dependency: Dependency, what: str) -> None:
    raise DependencyError(
        f"container {name} waits for {dependency.container} to be "
        f"{dependency.condition.state} ({dependency.condition.value}), but "
        f"{dependency.container} {what}; nothing more was started"
    )
