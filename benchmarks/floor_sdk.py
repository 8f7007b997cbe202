"""The floor volplan is measured against: what a hand-written docker-SDK script does.

    python benchmarks/floor_sdk.py check DIR      load the specs, list volumes and containers
    python benchmarks/floor_sdk.py create DIR     create everything the specs say, one by one
    python benchmarks/floor_sdk.py recreate DIR NAME  recreate one container as the specs say

It reads the spec files with ruamel.yaml's C-based safe loader, talks to ``DOCKER_HOST``
through the SDK's low-level client, and knows nothing of volplan; it does no checking, no
diffing and no planning, which is why it is a floor.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import docker
from docker.types import Mount
from docker.utils import kwargs_from_env
from ruamel.yaml import YAML


def load(directory: Path) -> list[Any]:
    yaml = YAML(typ="safe", pure=False)
    return [yaml.load(path.read_bytes()) for path in sorted(directory.glob("*.yaml"))]


def check(client: docker.APIClient, directory: Path) -> None:
    docs = load(directory)
    volumes = client.volumes()["Volumes"] or []
    containers = client.containers(all=True)
    print(f"{len(docs)} files, {len(volumes)} volumes, {len(containers)} containers")


def create(client: docker.APIClient, directory: Path) -> None:
    docs = load(directory)
    for doc in docs:
        for name, spec in doc["volumes"].items():
            client.create_volume(name, labels=spec.get("labels"))
    specs = {name: spec for doc in docs for name, spec in doc["containers"].items()}
    sources = sorted(n for n, s in specs.items() if not s.get("volumes_from"))
    users = sorted(n for n, s in specs.items() if s.get("volumes_from"))
    for name in [*sources, *users]:
        create_container(client, name, specs[name])


def create_container(
    client: docker.APIClient,
    name: str,
    spec: dict[str, Any],
    labels: dict[str, str] | None = None,
) -> str:
    named = [m for m in spec.get("mounts", []) if "source" in m]
    anonymous = [m["target"] for m in spec.get("mounts", []) if "source" not in m]
    host_config = client.create_host_config(
        mounts=[
            Mount(m["target"], m["source"], type="volume", read_only=m.get("read_only", False))
            for m in named
        ]
        or None,
        volumes_from=spec.get("volumes_from") or None,
        network_mode=spec.get("network_mode"),
    )
    container = client.create_container(
        spec["image"],
        spec.get("command"),
        name=name,
        volumes=anonymous or None,
        host_config=host_config,
        stop_timeout=spec.get("stop_timeout"),
        labels=labels,
    )["Id"]
    if spec.get("state", "running") == "running":
        client.start(container)
    return str(container)


def recreate(client: docker.APIClient, directory: Path, name: str) -> None:
    """The old container's labels are passed on, as a script keeping its own bookkeeping
    in labels would, so that volplan's next run finds the container it made, changed only
    as the specs say; it is the same field in the same request either way."""
    spec = next(doc["containers"][name] for doc in load(directory) if name in doc["containers"])
    (old,) = client.containers(all=True, filters={"name": f"^/{name}$"})
    client.stop(old["Id"], timeout=spec.get("stop_timeout"))
    client.remove_container(old["Id"])
    create_container(client, name, spec, old["Labels"])


def main(argv: list[str]) -> None:
    client = docker.APIClient(version="auto", **kwargs_from_env())
    mode, directory = argv[0], Path(argv[1])
    if mode == "check":
        check(client, directory)
    elif mode == "create":
        create(client, directory)
    elif mode == "recreate":
        recreate(client, directory, argv[2])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
