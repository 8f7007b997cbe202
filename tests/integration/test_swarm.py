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
from pathlib import Path
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
    SwarmNode,
    SwarmUnavailableError,
    check_tools,
    running_swarm,
)

from reconciler.engine.adapter import DockerEngine
from reconciler.live.fleet_reports import latest_reports
from reconciler.render.fleet_status import fleet_status_document

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


SPEC = """\
version: 1
project: {project}
{targets}
containers:
  {project}-app:
    image: busybox:latest
    command: sleep 3600
    network_mode: none
    stop_timeout: 1
"""
SPECS = {
    "everywhere": SPEC.format(project="sw-all", targets=""),
    "edge": SPEC.format(project="sw-edge", targets="targets: {labels: {role: edge}}"),
}
"""Two spec files for every node: ``edge`` is for an engine labelled ``role=edge`` only."""


def running(node: SwarmNode, name: str) -> str | None:
    """The ID of the node's running container ``name``; None if it is not running."""
    found = node.docker("ps", "-q", "--no-trunc", "--filter", f"name=^{name}$").split()
    return found[0] if found else None


def agent_service(swarm: Swarm, tmp_path: Path) -> None:
    """``volplan watch /specs --self-heal`` on every node labelled to run an agent, its
    specs from Swarm configs."""
    configs = []
    for name, text in SPECS.items():
        (tmp_path / f"{name}.yaml").write_text(text)
        swarm.manager.docker("config", "create", f"volplan-{name}", str(tmp_path / f"{name}.yaml"))
        configs += ["--config", f"source=volplan-{name},target=/specs/{name}.yaml"]
    global_service(
        swarm, "volplan-agent", "--constraint", "node.labels.volplan==agent", *configs,
        AGENT_IMAGE, "watch", "/specs", "--self-heal", "--interval", "30",
    )  # fmt: skip


def test_a_global_watch_heals_each_node_with_the_specs_meant_for_it(
    swarm: Swarm, tmp_path: Path
) -> None:
    core, edge = swarm.nodes
    for node in swarm.nodes:
        swarm.manager.docker("node", "update", "--label-add", "volplan=agent", node.node_id)
    agent_service(swarm, tmp_path)
    eventually(lambda: all(running(n, "sw-all-app") for n in swarm.nodes), "sw-all on both")
    eventually(lambda: running(edge, "sw-edge-app") is not None, "sw-edge on node 2")
    assert core.docker("ps", "-aq", "--filter", "name=sw-edge").split() == []

    eventually(lambda: in_sync(swarm, "volplan-agent"), "both agents report in sync")
    before = reports(swarm, "volplan-agent")

    removed = running(edge, "sw-edge-app")
    assert removed is not None
    edge.docker("rm", "-f", removed)
    eventually(lambda: running(edge, "sw-edge-app") not in (None, removed), "node 2 heals")
    assert core.docker("ps", "-aq", "--filter", "name=sw-edge").split() == []
    healed = {edge.node_id: before[edge.node_id]}
    eventually(lambda: in_sync(swarm, "volplan-agent", since=healed), "node 2 reports its heal")

    result = cli_runner(swarm.manager.host)("fleet-status", "volplan-agent", "--format", "json")
    assert result.exit_code == 0, result.stderr
    after = {n["node_id"]: n for n in json.loads(result.stdout)["nodes"]}
    assert after[core.node_id]["engine_labels"] == {"role": "core"}
    assert after[edge.node_id]["engine_labels"] == {"role": "edge"}
    assert after[edge.node_id]["applies"] > before[edge.node_id]["applies"]  # its heal
    assert after[core.node_id]["applies"] == before[core.node_id]["applies"]
    text = cli_runner(swarm.manager.host)("fleet-status", "volplan-agent")
    assert text.stdout.startswith("Service volplan-agent: 2 nodes reporting, 0 drifted\n")
    swarm.manager.docker("service", "rm", "volplan-agent")


def reports(swarm: Swarm, service: str) -> dict[str, dict[str, Any]]:
    """What ``fleet-status --format json`` shows of each node, by node ID; read in this
    process, as the test polls for it (the CLI itself is run once things settle)."""
    engine = DockerEngine.connect(swarm.manager.host)
    document = fleet_status_document(service, latest_reports(engine.service_logs(service)))
    return {node["node_id"]: node for node in document["nodes"]}


def in_sync(swarm: Swarm, service: str, *, since: dict[str, dict[str, Any]] | None = None) -> bool:
    """Every node reports, in sync, and (with ``since``) reported anew after those."""
    now = reports(swarm, service)
    fresh = since is None or all(
        now[node]["reported_at"] > report["reported_at"] for node, report in since.items()
    )
    return len(now) == len(swarm.nodes) and all(n["in_sync"] for n in now.values()) and fresh


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
