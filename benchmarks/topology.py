"""The benchmark's projects: N volumes, N/10 data-volume containers and N/5 consumers.

Every consumer mounts five volumes read-only and takes ``volumes_from`` one data-volume
container, so a plan exercises mounts, inheritance and dependency order at every size.
One consumer runs (the one whose mount the minimal-change workload flips), the others
are only created: hundreds of running containers would measure the machine, not volplan.
The running one exits on SIGTERM at once (its shell waits on ``sleep`` with ``wait``,
which a trapped signal interrupts; a plain ``sleep 1`` would hold the trap for up to a
second), so neither its stop timeout nor the phase of its loop hides volplan's own cost.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

PROJECT = "bench"
IMAGE = "busybox:latest"
MOUNTS_PER_CONSUMER = 5
RUNNING = "app00000"
SERVE = 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'


@dataclass(frozen=True)
class Topology:
    volumes: int
    data_containers: int
    consumers: int
    files: int

    @classmethod
    def for_volumes(cls, n: int, *, files: int | None = None) -> Topology:
        return cls(n, max(1, n // 10), max(1, n // 5), files or max(1, n // 100))

    @property
    def containers(self) -> int:
        return self.data_containers + self.consumers


def volume_name(index: int) -> str:
    return f"vol{index:05d}"


def data_name(index: int) -> str:
    return f"data{index:05d}"


def consumer_name(index: int) -> str:
    return f"app{index:05d}"


def documents(topology: Topology, *, flipped: bool = False) -> list[dict[str, Any]]:
    """One spec document per file, resources dealt round-robin across the files."""
    docs: list[dict[str, Any]] = [
        {"version": 1, "project": PROJECT, "volumes": {}, "containers": {}}
        for _ in range(topology.files)
    ]
    for index in range(topology.volumes):
        docs[index % topology.files]["volumes"][volume_name(index)] = {"labels": {"tier": "bench"}}
    for index in range(topology.data_containers):
        docs[index % topology.files]["containers"][data_name(index)] = {
            "image": IMAGE,
            "state": "created",
            "network_mode": "none",
            "mounts": [{"target": "/data"}],
        }
    for index in range(topology.consumers):
        docs[index % topology.files]["containers"][consumer_name(index)] = _consumer(
            topology, index, flipped=flipped
        )
    return docs


def _consumer(topology: Topology, index: int, *, flipped: bool) -> dict[str, Any]:
    first = index * MOUNTS_PER_CONSUMER
    name = consumer_name(index)
    mounts = [
        {
            "source": volume_name((first + k) % topology.volumes),
            "target": f"/mnt/v{k}",
            "read_only": not (flipped and name == RUNNING and k == 0),
        }
        for k in range(MOUNTS_PER_CONSUMER)
    ]
    return {
        "image": IMAGE,
        "command": ["sh", "-c", SERVE],
        "state": "running" if name == RUNNING else "created",
        "network_mode": "none",
        "stop_timeout": 10,
        "mounts": mounts,
        "volumes_from": [f"{data_name(index % topology.data_containers)}:ro"],
    }


def write(topology: Topology, directory: Path, *, flipped: bool = False) -> list[Path]:
    """Write the spec files into ``directory`` (emptied of earlier ones) and list them."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    paths = []
    for index, doc in enumerate(documents(topology, flipped=flipped)):
        path = directory / f"part{index:03d}.yaml"
        path.write_text(_dump(doc))
        paths.append(path)
    return paths


def _dump(doc: dict[str, Any]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    text = io.StringIO()
    yaml.dump(doc, text)
    return text.getvalue()
