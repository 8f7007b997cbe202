"""The reference: the same work as a plain ``docker`` CLI shell script, one process a call.

It shows what scripting the docker CLI costs (a process start and a ``/_ping`` per
command); the SDK script in floor_sdk.py is the floor volplan's targets are measured on.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from benchmarks.floor_sdk import load

CHECK = """docker volume ls --format '{{json .}}' >/dev/null
docker ps -a --no-trunc --format '{{json .}}' >/dev/null
"""


def check_script() -> str:
    return "set -eu\n" + CHECK


def create_script(directory: Path) -> str:
    """One ``docker volume create`` / ``docker create`` (+ ``docker start``) per resource."""
    docs = load(directory)
    lines = ["set -eu"]
    for doc in docs:
        for name, spec in doc["volumes"].items():
            labels = [f"--label={k}={v}" for k, v in (spec.get("labels") or {}).items()]
            lines.append(shlex.join(["docker", "volume", "create", *labels, name]) + " >/dev/null")
    specs = {name: spec for doc in docs for name, spec in doc["containers"].items()}
    ordered = sorted(specs, key=lambda n: (bool(specs[n].get("volumes_from")), n))
    for name in ordered:
        lines += _container_lines(name, specs[name])
    return "\n".join(lines) + "\n"


def _container_lines(name: str, spec: dict[str, Any]) -> list[str]:
    args = ["docker", "create", f"--name={name}", f"--network={spec.get('network_mode', 'none')}"]
    for mount in spec.get("mounts", []):
        if "source" in mount:
            mode = ",readonly" if mount.get("read_only") else ""
            args.append(
                f"--mount=type=volume,source={mount['source']},target={mount['target']}{mode}"
            )
        else:
            args.append(f"--volume={mount['target']}")
    args += [f"--volumes-from={entry}" for entry in spec.get("volumes_from", [])]
    if spec.get("stop_timeout") is not None:
        args.append(f"--stop-timeout={spec['stop_timeout']}")
    args += [spec["image"], *spec.get("command", [])]
    lines = [shlex.join(args) + " >/dev/null"]
    if spec.get("state", "running") == "running":
        lines.append(shlex.join(["docker", "start", name]) + " >/dev/null")
    return lines
