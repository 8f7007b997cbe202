"""Helpers for the GitOps tests: spec folders, the committed JSON Schemas, lock labels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from support.engine import Engine

SCHEMAS = Path(__file__).resolve().parents[2] / "reconciler" / "schemas"

SLOW = """\
    version: 1
    project: shop
    volumes:
      data: {{}}
    containers:
      app:
        image: busybox:latest
        command: ["sleep", "300"]
        network_mode: none
        stop_timeout: {stop}
        environment: {{ROUND: "{round}"}}
        mounts: ["data:/data"]
    """
"""A spec (``.format(stop=S, round=R)``) whose apply is slow on purpose: changing ``round``
recreates ``app``, whose ``sleep`` (pid 1, which ignores SIGTERM) the engine stops only
after ``stop`` seconds."""


def write_specs(root: Path, text: str, *, folder: str = "specs", name: str = "shop.yaml") -> Path:
    """Write one spec file under root/folder and return the folder."""
    specs = root / folder
    specs.mkdir(parents=True, exist_ok=True)
    (specs / name).write_text(textwrap.dedent(text))
    return specs


def write_targets(root: Path, targets: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write root/targets.yaml naming ``targets``, each with its keys (``host``, ``tls``,
    ``labels``...) as the targets file has them, and return it."""
    lines = ["version: 1", "targets:"]
    for name, keys in targets.items():
        lines.append(f"  {name}:")
        lines += [f"    {key}: {json.dumps(value)}" for key, value in keys.items()]
    path = root / "targets.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def validate(document: Any, schema_name: str) -> None:
    """Raise if ``document`` breaks the committed schema ``schema_name`` (whose references
    to the other committed schemas, as the fleet's to the plan's, resolve to them)."""
    schema = json.loads((SCHEMAS / schema_name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, registry=_registry()).validate(document)


def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def start_cli(
    docker_host: str,
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    prefix: tuple[str, ...] = (),
) -> subprocess.Popen[str]:
    """Start volplan in the background, like RunCli would run it, with pipes to read;
    ``prefix`` runs it under another command (``unshare ...``)."""
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    run_env |= {"DOCKER_HOST": docker_host, "NO_COLOR": "1", "CI": "true", **(env or {})}
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "reconciler", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=run_env,
        cwd=cwd,
    )


def await_stopping(engine: Engine, name: str, since: float | None = None) -> None:
    """Return once apply has asked the engine to stop ``name`` (if its ``sleep`` is pid 1,
    which ignores SIGTERM, the stop then lasts its whole stop timeout), since ``since``
    (a Unix time; default: a second ago)."""
    now = int(time.time())
    start = now - 1 if since is None else int(since)
    events = engine.client.events(
        decode=True, filters={"event": "kill"}, since=start, until=now + 60
    )
    try:
        for event in events:
            if event.get("Actor", {}).get("Attributes", {}).get("name") == name:
                return
    finally:
        events.close()
    raise AssertionError(f"apply never stopped {name}")
