"""volplan on Docker Swarm: agents as a global service, their status read back by
``volplan fleet-status`` from the service's logs.

The swarm is two private daemons in a network namespace of the test's own
(``support.swarm``, no network outside 127/8); node 2's engine is labelled
``role=edge``. The agents run the image of examples/swarm/Dockerfile, built offline
(``support.agent_image``) and imported on each node. Each task mounts its own node's
engine socket (a ``{{.Node.ID}}`` bind through per-node symlinks).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.agent_image import (
    ENTRYPOINT,
    SITE_PACKAGES,
    AgentImageUnavailableError,
    build_agent_archive,
)
from support.cli import cli_runner
from support.engine import IMAGE, Engine
from support.examples import REPO
from support.swarm import (
    ImageArchive,
    Swarm,
    SwarmUnavailableError,
    check_tools,
    running_swarm,
)

DOCKERFILE = REPO / "examples" / "swarm" / "Dockerfile"
AGENT_IMAGE = "volplan-agent:test"
SOCKET_FOLDER = "/var/run/volplan"
"""Where a task sees its node's engine socket folder."""


@pytest.fixture(scope="module")
def swarm(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swarm]:
    folder = tmp_path_factory.mktemp("swarm-images")
    try:
        check_tools()
        agent = build_agent_archive(folder)
    except (AgentImageUnavailableError, SwarmUnavailableError) as error:
        if os.environ.get("CI") == "true":
            message = f"CI needs the swarm test: {error}"
            raise pytest.fail.Exception(message, pytrace=False) from None
        raise pytest.skip.Exception(f"{error} (skipped outside CI only)") from None
    busybox = folder / "busybox.tar"
    with busybox.open("wb") as archive:
        archive.writelines(engine.client.get_image(IMAGE))
    images = [ImageArchive(busybox), ImageArchive(agent, AGENT_IMAGE, (ENTRYPOINT,))]
    with running_swarm([{"role": "core"}, {"role": "edge"}], images) as started:
        for node, role in zip(started.nodes, ("core", "edge"), strict=True):
            started.manager.docker("node", "update", "--label-add", f"role={role}", node.node_id)
        yield started


def global_service(swarm: Swarm, name: str, *arguments: str) -> None:
    """A global service of the agent image, each task with its own node's engine."""
    swarm.manager.docker(
        "service", "create", "--detach", "--no-resolve-image", "--mode", "global",
        "--name", name,
        "--mount", f"type=bind,source={swarm.sockets_by_node}/{{{{.Node.ID}}}},"
        f"target={SOCKET_FOLDER}",
        "--env", f"DOCKER_HOST=unix://{SOCKET_FOLDER}/docker.sock", "--stop-grace-period", "2s",
        *arguments,
    )  # fmt: skip


def eventually(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.25)


def reports(swarm: Swarm, service: str) -> dict[str, dict[str, Any]]:
    """``fleet-status --format json``'s nodes by node ID; none while none reports."""
    result = cli_runner(swarm.manager.host)("fleet-status", service, "--format", "json")
    nodes = json.loads(result.stdout)["nodes"] if result.stdout else []
    return {node["node_id"]: node for node in nodes}


REPORTER = r"""
import http.client, json, socket
class Engine(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect("/var/run/volplan/docker.sock")
engine = Engine("localhost")
engine.request("GET", "/info")
info = json.loads(engine.getresponse().read())
labels = dict(label.split("=", 1) for label in info["Labels"])
drift = {"edge-app": 2} if labels.get("role") == "edge" else {}
print("a log line that is no status", flush=True)
print(json.dumps({"kind": "volplan.watch.status", "version": 1, "time": "2026-12-02T00:00:00Z",
    "target": "local", "engine": {"id": info["ID"], "name": info["Name"], "labels": labels,
    "node_id": info["Swarm"]["NodeID"]}, "last_sync": "2026-12-02T00:00:00Z",
    "in_sync": not drift, "drift": drift, "applies": 1, "failures": 0}), flush=True)
import time; time.sleep(3600)
"""
"""A stand-in agent: one status line with its node's real engine labels and node ID."""


def test_fleet_status_shows_every_nodes_latest_report(swarm: Swarm) -> None:
    global_service(swarm, "reporter", "--entrypoint", "python3", AGENT_IMAGE, "-c", REPORTER)
    run = cli_runner(swarm.manager.host)
    eventually(lambda: len(reports(swarm, "reporter")) == 2, "both nodes report")
    result = run("fleet-status", "reporter", "--format", "json")
    assert result.exit_code == 2, result.stderr  # node 2 reports drift
    nodes = {n["node_id"]: n for n in json.loads(result.stdout)["nodes"]}
    assert list(nodes) == sorted(nodes)
    core, edge = (nodes[node.node_id] for node in swarm.nodes)
    assert (core["engine_labels"], core["in_sync"]) == ({"role": "core"}, True)
    assert (edge["engine_labels"], edge["drift"]) == ({"role": "edge"}, {"edge-app": 2})
    text = run("fleet-status", "reporter")
    assert text.exit_code == 2
    assert text.stdout.startswith("Service reporter: 2 nodes reporting, 1 drifted\n")
    assert f"{swarm.node(2).node_id[:12]} drifted in: edge-app (2)" in text.stdout
    swarm.manager.docker("service", "rm", "reporter")


def test_fleet_status_of_a_service_with_no_report_is_an_error(swarm: Swarm) -> None:
    global_service(swarm, "silent", "--entrypoint", "sleep", AGENT_IMAGE, "3600")
    result = cli_runner(swarm.manager.host)("fleet-status", "silent")
    assert result.exit_code == 1
    assert "service silent: no node has reported a volplan watch status yet" in result.stderr
    missing = cli_runner(swarm.manager.host)("fleet-status", "no-such-service")
    assert missing.exit_code == 1
    assert "no-such-service" in missing.stderr
    swarm.manager.docker("service", "rm", "silent")


def test_the_users_dockerfile_is_the_image_the_test_builds() -> None:
    """Same Python minor as the rootfs's (its site-packages path), same entry point."""
    lines = DOCKERFILE.read_text().splitlines()
    assert "FROM python:3.11-slim" in lines
    assert "python3.11/" in SITE_PACKAGES
    assert ENTRYPOINT in lines
