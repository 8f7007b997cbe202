"""Create requests -> the Engine API's request bodies (API 1.41). Pure.

The container options' fields are one mapping, used by the adapter for the request it
sends and by the fake engine for what its inspect answers, so a test of the fake checks the
very body the engine receives. The whole bodies are those docker-py's ``APIClient`` sends
for the same calls, with its unset (null) fields left out: tests/unit/test_request_bodies.py
compares them with docker-py's own, which is the oracle, not this module's reading of it.
"""

from __future__ import annotations

from typing import Any

from reconciler.container_options import ContainerOptions, Healthcheck
from reconciler.engine.base import ENGINE_STOP_TIMEOUT, ContainerCreate, VolumeCreate
from reconciler.model import Mount, MountKind

_DETACHED_STREAMS = {
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "AttachStdin": False,
    "AttachStdout": True,
    "AttachStderr": True,
    "NetworkDisabled": False,
}
"""What docker-py's ``create_container`` sets on every container it creates."""


def volume_create_body(request: VolumeCreate) -> dict[str, Any]:
    """``POST /volumes/create``."""
    return {
        "Name": request.name,
        "Driver": request.driver,
        "DriverOpts": dict(request.driver_opts),
        "Labels": dict(request.labels),
    }


def container_create_body(request: ContainerCreate) -> dict[str, Any]:
    """``POST /containers/create``: the container's config, host config and first network."""
    return {
        **_DETACHED_STREAMS,
        **_set(
            Env=[f"{key}={value}" for key, value in request.environment.items()] or None,
            Cmd=list(request.command) if request.command is not None else None,
        ),
        "Image": request.image,
        "Labels": dict(request.labels),
        **_set(StopSignal=request.stop_signal),
        "StopTimeout": stop_timeout(request),
        "HostConfig": _host_config(request),
        **_set(NetworkingConfig=networking_config(request.options)),
        **config_fields(request.options),
    }


def stop_timeout(request: ContainerCreate) -> int:
    """The spec's, else dockerd's default, sent either way: Podman (4.3) gives a container
    created through the Docker API without one a StopTimeout of 0 (every stop a SIGKILL)."""
    return ENGINE_STOP_TIMEOUT if request.stop_timeout is None else request.stop_timeout


def _host_config(request: ContainerCreate) -> dict[str, Any]:
    return {
        "NetworkMode": request.network_mode or "default",
        **_set(
            RestartPolicy=_restart_policy(request.restart),
            VolumesFrom=list(request.volumes_from) or None,
            Binds=[bind_string(m) for m in request.mounts if as_bind_string(m)] or None,
            Mounts=[_mount(m) for m in request.mounts if not as_bind_string(m)] or None,
            PublishAllPorts=request.publish_all or None,
        ),
        **host_config_fields(request.options),
    }


def as_bind_string(mount: Mount) -> bool:
    """Legacy ``Binds`` form: the one way API 1.41 creates a missing host directory or
    relabels content for SELinux (``z``/``Z``), which ``Mounts`` cannot say."""
    return mount.create_host_path or mount.selinux is not None


def bind_string(mount: Mount) -> str:
    options = ["ro" if mount.read_only else "rw"]
    if mount.propagation:
        options.append(mount.propagation)
    if mount.nocopy:
        options.append("nocopy")
    if mount.selinux:
        options.append(mount.selinux)
    return f"{mount.source}:{mount.target}:{','.join(options)}"


def _mount(mount: Mount) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Target": mount.target,
        "Source": mount.source,
        "Type": "bind" if mount.kind is MountKind.BIND else "volume",
        "ReadOnly": mount.read_only,
    }
    if mount.kind is MountKind.BIND:
        if mount.propagation:
            body["BindOptions"] = {"Propagation": mount.propagation}
    elif mount.nocopy:
        body["VolumeOptions"] = {"NoCopy": True}
    return body


def _restart_policy(restart: str | None) -> dict[str, Any] | None:
    if restart is None:
        return None
    name, _, retries = restart.partition(":")
    return {"Name": name, "MaximumRetryCount": int(retries or 0)}


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
