"""The container options of issue 11 (entrypoint, user, limits, healthcheck…) as plain data.

They sit in one frozen record on ``DesiredContainer`` so the stages can pass them through
whole: the loader fills it, ``labels.container_config`` records its set fields, and the
engine adapter turns it into the create request. Values are already in the engine's
units (bytes, nanoseconds, nano-CPUs are computed by the adapter). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


def capability_name(name: str) -> str:
    """Docker reads ``cap_net_admin``, ``CAP_NET_ADMIN`` and ``NET_ADMIN`` alike; one form."""
    return name.upper().removeprefix("CAP_")


@dataclass(frozen=True)
class Healthcheck:
    """The engine's ``Healthcheck``: ``test`` is ``["NONE"]`` when disabled."""

    test: tuple[str, ...] | None = None
    interval: int | None = None
    timeout: int | None = None
    retries: int | None = None
    start_period: int | None = None


@dataclass(frozen=True)
class Ulimit:
    name: str
    soft: int
    hard: int


@dataclass(frozen=True, order=True)
class PortBinding:
    """One published port: ``host_port`` empty means one the engine picks."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""
    host_port: str = ""


@dataclass(frozen=True)
class NetworkAttachment:
    """An existing network the container joins; volplan never creates one."""

    name: str
    aliases: tuple[str, ...] = ()


class Condition(StrEnum):
    """What a dependency must have reached before its dependent starts (Compose's names)."""

    STARTED = "service_started"
    HEALTHY = "service_healthy"
    COMPLETED = "service_completed_successfully"

    @property
    def state(self) -> str:
        """The state in words, for plan lines and errors: "healthy"."""
        return _CONDITION_STATES[self]


_CONDITION_STATES = {
    Condition.STARTED: "running",
    Condition.HEALTHY: "healthy",
    Condition.COMPLETED: "completed successfully",
}


@dataclass(frozen=True)
class Dependency:
    container: str
    condition: Condition = Condition.STARTED


@dataclass(frozen=True)
class ContainerOptions:
    entrypoint: tuple[str, ...] | None = None
    user: str | None = None
    working_dir: str | None = None
    hostname: str | None = None
    init: bool | None = None
    read_only: bool = False
    shm_size: int | None = None
    tmpfs: Mapping[str, str] = field(default_factory=dict)
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    ulimits: tuple[Ulimit, ...] = ()
    mem_limit: int | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    healthcheck: Healthcheck | None = None
    env_file: tuple[str, ...] = ()
    """Host paths of the env files, in order; their values are in the environment."""
    ports: tuple[PortBinding, ...] = ()
    networks: tuple[NetworkAttachment, ...] = ()
    depends_on: tuple[Dependency, ...] = ()
    """Containers to wait for before starting this one: an order, not a setting of the
    container, so (as in Compose's config hash) not recorded and never a recreate."""

    def config(self) -> dict[str, Any]:
        """The options that are set, in canonical JSON-ready form, for the config hash.

        Unset options are left out, so a container made before they existed keeps its
        hash and is not recreated for nothing. Env file paths are left out too: what the
        container gets from them is recorded with its environment.
        """
        default = ContainerOptions()
        return {
            item.name: _canonical(getattr(self, item.name))
            for item in fields(self)
            if item.name not in _NOT_RECORDED
            and getattr(self, item.name) != getattr(default, item.name)
        }


_NOT_RECORDED = frozenset({"env_file", "depends_on"})


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Healthcheck | Ulimit | PortBinding | NetworkAttachment):
        return {item.name: _canonical(getattr(value, item.name)) for item in fields(value)}
    return value
