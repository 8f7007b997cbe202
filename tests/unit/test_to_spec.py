"""live/to_spec.py: engine answers (in Docker's own shapes, parsed by records.py) -> spec
documents; what the engine round trip (test_export.py) does not reach: projects by label,
a shared volume, options and their defaults."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from reconciler.engine import records
from reconciler.errors import ExportError
from reconciler.live.host_snapshot import HostSnapshot
from reconciler.live.reader import normalise
from reconciler.live.to_spec import export_projects
from reconciler.model import EngineInfo
from reconciler.spec.json_schema import spec_schema

ENGINE = EngineInfo("unix:///x.sock", "ID", "vm", "20.10", "1.41", is_local=True)
IMAGE: dict[str, Any] = {
    "Id": "sha256:img",
    "Config": {
        "Cmd": ["serve"],
        "Entrypoint": ["entry.sh"],
        "Env": ["PATH=/bin", "PGDATA=/data"],
        "WorkingDir": "/srv",
        "User": "app",
        "StopSignal": "SIGINT",
        "Labels": {"vendor": "x"},
        "Volumes": {"/data": {}},
        "Healthcheck": {"Test": ["CMD", "ok"], "Interval": 30_000_000_000},
    },
}


def _container(name: str, *, labels: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    """A container as the engine makes it from IMAGE: its config starts as the image's."""
    inherited = {k: v for k, v in IMAGE["Config"].items() if k != "Volumes"}
    config = {
        **inherited,
        "Image": "img:1",
        "Hostname": f"{name}00000000"[:12],
        "Labels": {"vendor": "x", **(labels or {})},
        **fields.pop("config", {}),
    }
    host = {"NetworkMode": "none", "ShmSize": 64 * 1024 * 1024, **fields.pop("host", {})}
    return {
        "Id": f"{name}00000000",
        "Name": f"/{name}",
        "Names": [f"/{name}"],
        "Image": "sha256:img",
        "ImageID": "sha256:img",
        "State": "running",
        "Labels": config["Labels"],
        "Config": config,
        "HostConfig": host,
        "Mounts": fields.pop("mounts", []),
    }


def _volume(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"Name": name, "Driver": "local", "Labels": labels or {}, "Options": {}}


def _snapshot(containers: list[dict[str, Any]], volumes: list[dict[str, Any]]) -> HostSnapshot:
    live = normalise(
        ENGINE,
        records.parse_volume_list({"Volumes": volumes}),
        records.parse_container_list(containers),
    )
    answers = [{**c, "State": {"Status": c["State"]}} for c in containers]
    inspected = {c.name: c for c in map(records.parse_container_inspect, answers)}
    return HostSnapshot(live, inspected, {"sha256:img": records.parse_image_defaults(IMAGE)})


def _mount(target: str, name: str) -> dict[str, Any]:
    return {"Type": "volume", "Name": name, "Destination": target, "RW": True}


def test_image_and_engine_defaults_are_left_out_and_the_rest_is_written() -> None:
    busy = _container(
        "web",
        labels={"tier": "front", "com.docker.compose.project": "shop"},
        config={"Env": ["PATH=/bin", "PGDATA=/data", "MODE=prod"], "User": "root"},
        host={
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
            "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
            "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
            "Tmpfs": {"/run": "size=1m"},
            "NanoCpus": 500_000_000,
            "Memory": 1024,
            "Mounts": [{"Type": "volume", "Target": "/cache", "VolumeOptions": {"NoCopy": True}}],
        },
        mounts=[_mount("/data", "a" * 64), _mount("/cache", "shop_cache")],
    )
    bare = _container("worker", labels={"com.docker.compose.project": "shop"})
    snapshot = _snapshot([busy, bare], [_volume("a" * 64), _volume("shop_cache")])

    (shop,) = export_projects(snapshot)

    assert shop.name == "shop"
    assert shop.document["containers"] == {
        "web": {
            "image": "img:1",
            "environment": {"MODE": "prod"},
            "labels": {"tier": "front"},
            "user": "root",
            "mounts": ["shop_cache:/cache:nocopy"],
            "network_mode": "none",
            "restart": "on-failure:3",
            "mem_limit": 1024,
            "cpus": 0.5,
            "tmpfs": {"/run": "size=1m"},
            "ulimits": {"nofile": {"soft": 1024, "hard": 2048}},
            "ports": ["127.0.0.1:8080:80"],
        },
        "worker": {"image": "img:1", "network_mode": "none"},
    }
    assert shop.comments[("containers", "worker")].startswith(
        "made by Compose (project shop): apply adopts it"
    )
    assert shop.document["volumes"] == {"shop_cache": {}}


def test_projects_come_from_labels_and_a_shared_volume_is_external_elsewhere() -> None:
    volplan = {"io.volplan.project": "billing", "io.volplan.config-hash": "x"}
    mine = _container("api", labels=volplan, mounts=[_mount("/shared", "shared")])
    theirs = _container("hand-made", mounts=[_mount("/shared", "shared")])
    store = _container("store", mounts=[_mount("/keep", "b" * 64)], config={"Cmd": ["true"]})
    store["State"] = "created"
    user = _container("user", host={"VolumesFrom": ["store:ro"]})
    containers = [mine, theirs, store, user]
    volumes = [_volume("shared", volplan), _volume("b" * 64)]

    billing, host = export_projects(_snapshot(containers, volumes))

    assert (billing.name, host.name) == ("billing", "host")
    assert billing.document["volumes"] == {"shared": {}}
    assert "labels" not in billing.document["containers"]["api"]  # volplan's own are not
    assert host.document["volumes"] == {"shared": {"external": True}}
    assert host.document["containers"]["store"] == {
        "image": "img:1",
        "command": ["true"],
        "state": "created",
        "mounts": ["/keep"],
        "network_mode": "none",
    }
    assert host.document["containers"]["user"]["volumes_from"] == ["store:ro"]
    assert "mounts" not in host.document["containers"]["user"]  # inherited, not its own
    validator = jsonschema.Draft202012Validator(spec_schema())
    assert all(validator.is_valid(p.document) for p in (billing, host))


def test_a_healthcheck_of_its_own_is_written_with_durations() -> None:
    check = {"Test": ["CMD-SHELL", "true"], "Interval": 90_000_000_000, "Retries": 3}
    snapshot = _snapshot([_container("web", config={"Healthcheck": check})], [])

    (host,) = export_projects(snapshot)

    assert host.document["containers"]["web"]["healthcheck"] == {
        "test": ["CMD-SHELL", "true"],
        "interval": "1m30s",
        "retries": 3,
    }


def test_a_project_the_engine_does_not_hold_is_an_error_naming_those_it_does() -> None:
    snapshot = _snapshot([_container("web")], [])

    with pytest.raises(ExportError, match=r"project 'shop' \(projects found: host\)"):
        export_projects(snapshot, "shop")
