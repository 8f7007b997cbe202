"""``ContainerOptions`` -> the Engine API's create-request fields (API 1.41). Pure.

One mapping, used by the adapter for the request it sends and by the fake engine for what
its inspect answers, so a test of the fake checks the very body the engine receives.
"""

from __future__ import annotations

from typing import Any

from reconciler.container_options import ContainerOptions, Healthcheck

NANO_CPUS = 1_000_000_000


def config_fields(options: ContainerOptions) -> dict[str, Any]:
    """Fields of the request's top level (the container's ``Config``)."""
    return _set(
        Entrypoint=list(options.entrypoint) if options.entrypoint is not None else None,
        User=options.user,
        WorkingDir=options.working_dir,
        Hostname=options.hostname,
        Healthcheck=_healthcheck(options.healthcheck) if options.healthcheck else None,
        ExposedPorts={f"{p.container_port}/{p.protocol}": {} for p in options.ports} or None,
    )


def host_config_fields(options: ContainerOptions) -> dict[str, Any]:
    """Fields of the request's ``HostConfig``."""
    bindings: dict[str, list[dict[str, str]]] = {}
    for port in options.ports:
        bindings.setdefault(f"{port.container_port}/{port.protocol}", []).append(
            {"HostIp": port.host_ip, "HostPort": port.host_port}
        )
    return _set(
        Init=options.init,
        ReadonlyRootfs=options.read_only or None,
        ShmSize=options.shm_size,
        Tmpfs=dict(options.tmpfs) or None,
        CapAdd=list(options.cap_add) or None,
        CapDrop=list(options.cap_drop) or None,
        Ulimits=[{"Name": u.name, "Soft": u.soft, "Hard": u.hard} for u in options.ulimits] or None,
        Memory=options.mem_limit,
        NanoCpus=round(options.cpus * NANO_CPUS) if options.cpus is not None else None,
        PidsLimit=options.pids_limit,
        PortBindings=bindings or None,
        NetworkMode=options.networks[0].name if options.networks else None,
    )


def networking_config(options: ContainerOptions) -> dict[str, Any] | None:
    """The first network's endpoint; API 1.41 takes one at create, the rest are connected
    afterwards (``POST /networks/{name}/connect``)."""
    if not options.networks:
        return None
    first = options.networks[0]
    return {"EndpointsConfig": {first.name: endpoint_config(first.aliases)}}


def endpoint_config(aliases: tuple[str, ...]) -> dict[str, Any]:
    return {"Aliases": list(aliases)} if aliases else {}


def _healthcheck(check: Healthcheck) -> dict[str, Any]:
    return _set(
        Test=list(check.test) if check.test is not None else None,
        Interval=check.interval,
        Timeout=check.timeout,
        Retries=check.retries,
        StartPeriod=check.start_period,
    )


def _set(**fields: Any) -> dict[str, Any]:
    """The fields that have a value: the engine's defaults stand for the others."""
    return {key: value for key, value in fields.items() if value is not None}
