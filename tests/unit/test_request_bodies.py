"""The create bodies volplan sends are those docker-py's ``APIClient`` builds for the same
calls, its unset (null) fields left out: docker-py is the oracle here.

The docker-py side is built the way the adapter built its requests before it sent them
itself: ``create_host_config`` with the mounts as ``docker.types.Mount`` and the binds as
strings, the options' fields over it, then ``create_container_config``.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import docker
import pytest
from docker.types import Mount as SdkMount

from reconciler.container_options import (
    ContainerOptions,
    Healthcheck,
    NetworkAttachment,
    PortBinding,
    Ulimit,
)
from reconciler.engine.base import ContainerCreate, VolumeCreate
from reconciler.engine.options_body import (
    as_bind_string,
    bind_string,
    config_fields,
    container_create_body,
    host_config_fields,
    networking_config,
    stop_timeout,
    volume_create_body,
)
from reconciler.model import Mount, MountKind

CLIENT = docker.APIClient(base_url="unix:///nonexistent.sock", version="1.41")
"""Builds bodies only: no request is ever sent through it."""

MOUNTS = (
    Mount(target="/data", source="data", kind=MountKind.VOLUME),
    Mount(target="/cache", source="cache", kind=MountKind.VOLUME, read_only=True, nocopy=True),
    Mount(target="/anon", source="f" * 64, kind=MountKind.VOLUME),
    Mount(target="/etc/app", source="/srv/app", kind=MountKind.BIND, read_only=True),
    Mount(target="/shared", source="/srv/shared", kind=MountKind.BIND, propagation="rshared"),
    Mount(target="/made", source="/srv/made", kind=MountKind.BIND, create_host_path=True),
    Mount(target="/label", source="/srv/label", kind=MountKind.BIND, selinux="Z"),
)

OPTIONS = ContainerOptions(
    entrypoint=("/bin/sh", "-c"),
    user="1000:1000",
    working_dir="/work",
    hostname="box",
    init=True,
    read_only=True,
    shm_size=64 << 20,
    tmpfs={"/run": "size=1m"},
    cap_add=("NET_ADMIN",),
    cap_drop=("ALL",),
    ulimits=(Ulimit("nofile", 1024, 2048),),
    mem_limit=128 << 20,
    cpus=0.5,
    pids_limit=64,
    healthcheck=Healthcheck(("CMD", "true"), interval=10**9, retries=3),
    ports=(PortBinding(8080, "tcp", "127.0.0.1", "18080"), PortBinding(53, "udp")),
    networks=(NetworkAttachment("front", ("web",)), NetworkAttachment("back")),
)

REQUESTS = {
    "bare": ContainerCreate("bare", "busybox:latest", None, {}, ()),
    "data-volume container": ContainerCreate(
        "dbstore", "busybox:latest", ("/bin/true",), {"io.volplan.project": "p"}, MOUNTS[:1]
    ),
    "every mount form, volumes_from, restart, state": ContainerCreate(
        "app",
        "registry.example/app@sha256:" + "a" * 64,
        ("sh", "-c", "sleep 300"),
        {"a": "1", "b": "two words"},
        MOUNTS,
        volumes_from=("dbstore:ro", "other:rw"),
        environment={"PGDATA": "/data/pg", "EMPTY": ""},
        network_mode="none",
        restart="on-failure:3",
        publish_all=True,
        stop_signal="SIGINT",
        stop_timeout=30,
    ),
    "every option": ContainerCreate(
        "full", "busybox:latest", ("true",), {}, MOUNTS[:2], options=OPTIONS
    ),
    "restart without retries": ContainerCreate(
        "always", "busybox:latest", None, {}, (), restart="always", network_mode="host"
    ),
}


def _sdk_mount(mount: Mount) -> SdkMount:
    if mount.kind is MountKind.BIND:
        return SdkMount(
            target=mount.target,
            source=mount.source,
            type="bind",
            read_only=mount.read_only,
            propagation=mount.propagation,
        )
    return SdkMount(
        target=mount.target,
        source=mount.source,
        type="volume",
        read_only=mount.read_only,
        no_copy=mount.nocopy,
    )


def _restart_policy(restart: str | None) -> dict[str, Any] | None:
    if restart is None:
        return None
    name, _, retries = restart.partition(":")
    return {"Name": name, "MaximumRetryCount": int(retries or 0)}


def _docker_py_body(request: ContainerCreate) -> dict[str, Any]:
    host_config = CLIENT.create_host_config(
        mounts=[_sdk_mount(m) for m in request.mounts if not as_bind_string(m)] or None,
        binds=[bind_string(m) for m in request.mounts if as_bind_string(m)] or None,
        volumes_from=list(request.volumes_from) or None,
        network_mode=request.network_mode,
        restart_policy=_restart_policy(request.restart),
        publish_all_ports=request.publish_all,
    )
    host_config.update(host_config_fields(request.options))
    client: Any = CLIENT  # the raw-config call is typed more narrowly than docker-py takes
    config: dict[str, Any] = client.create_container_config(
        image=request.image,
        command=list(request.command) if request.command is not None else None,
        environment=dict(request.environment) or None,
        labels=dict(request.labels),
        host_config=host_config,
        stop_signal=request.stop_signal,
        stop_timeout=stop_timeout(request),
        networking_config=networking_config(request.options),
    )
    config.update(config_fields(request.options))
    sent: dict[str, Any] = _without_nulls(config)
    return sent


def _without_nulls(value: Any) -> Any:
    """docker-py sends every field it knows, null when unset: to the engine, absent."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_a_create_body_is_docker_pys(name: str) -> None:
    request = REQUESTS[name]

    assert container_create_body(request) == _docker_py_body(request)


def test_the_bodies_cover_every_mount_form() -> None:
    """The table above is meant to hold each way a mount reaches the engine."""
    sent = container_create_body(REQUESTS["every mount form, volumes_from, restart, state"])

    assert len(sent["HostConfig"]["Mounts"]) + len(sent["HostConfig"]["Binds"]) == len(MOUNTS)
    assert {PurePosixPath(m["Target"]).name for m in sent["HostConfig"]["Mounts"]} == {
        "data",
        "cache",
        "anon",
        "app",
        "shared",
    }


def test_a_volume_body_is_docker_pys(monkeypatch: pytest.MonkeyPatch) -> None:
    request = VolumeCreate("pgdata", "local", {"type": "tmpfs", "device": "tmpfs"}, {"team": "db"})
    sent: dict[str, Any] = {}
    fake = docker.APIClient(base_url="unix:///nonexistent.sock", version="1.41")
    monkeypatch.setattr(fake, "_post_json", lambda url, data: _Answer(sent.update(data)))

    fake.create_volume("pgdata", "local", {"type": "tmpfs", "device": "tmpfs"}, {"team": "db"})

    assert volume_create_body(request) == sent


class _Answer:
    """What docker-py's ``_result`` reads of an answer, for a call never sent."""

    def __init__(self, _: None) -> None:
        self.status_code = 201

    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict[str, str]:
        return {}
