"""volplan graph against the real engine: the plan's changes coloured on the specs'
picture, the live topology, and the picture without an engine; drawn by Graphviz."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cli import NO_ENGINE_HOST, RunCli
from support.engine import Engine
from support.gitops import write_specs
from support.graphviz import Drawn, read_svg, render_svg

from reconciler.plan.actions import Safety
from reconciler.render.graph import NodeKind, node_id
from reconciler.render.graph_syntax import FILL

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("test_images")]

SPEC = """\
    version: 1
    project: pics
    volumes:
      data: {labels: {round: "NUMBER"}}
    containers:
      store:
        image: busybox:latest
        state: created
        network_mode: none
        mounts: [/shared]
      app:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        environment: {ROUND: "NUMBER"}
        mounts: ["data:/data", "./conf:/etc/app:ro"]
        volumes_from: ["store:ro"]
      cache:
        image: volplan-example/redis-like:7
        network_mode: none
        stop_timeout: 1
    """

PICTURES = Path(__file__).resolve().parents[2] / "examples" / "pictures"
RED, AMBER, GREEN = (FILL[s][0] for s in (Safety.DESTROYS_DATA, Safety.RESTARTS, Safety.SAFE))


def _write(tmp_path: Path, round_: str) -> Path:
    specs = write_specs(tmp_path, SPEC.replace("NUMBER", round_))
    (specs / "conf").mkdir(exist_ok=True)
    return specs


def _dot(run_cli: RunCli, *args: str, cwd: Path) -> Drawn:
    result = run_cli("graph", *args, "--format", "dot", cwd=cwd)
    assert result.exit_code == 0, result.stderr
    return render_svg(result.stdout)


def test_graph_draws_the_specs_with_the_plan_coloured_and_the_live_topology(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    _write(tmp_path, "1")
    assert run_cli("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
    # The label change replaces data (destroys it), which recreates app (a restart);
    # the new volume is a safe create.
    _write(tmp_path, "2")
    (tmp_path / "specs" / "logs.yaml").write_text(
        "version: 1\nproject: pics\nvolumes: {logs: {}}\n"
    )

    planned = _dot(run_cli, "specs", cwd=tmp_path)
    assert planned.fills["volume_data"] == RED
    assert planned.nodes["volume_data"][-1] == "replace [destroys-data]"
    assert planned.fills["container_app"] == AMBER
    assert planned.fills["volume_logs"] == GREEN
    assert planned.fills["container_store"] in {"", "none"}
    image_volume = node_id(NodeKind.IMAGE_VOLUME, "cache:/data")  # the image's VOLUME /data
    assert planned.nodes[image_volume] == ["image volume", "cache:/data"]
    assert planned.edges[("container_cache", image_volume)] == ["/data rw"]
    assert planned.edges[("container_app", "container_store")] == ["volumes_from ro"]
    assert planned.edges[("container_app", node_id(NodeKind.BIND, "./conf"))] == ["/etc/app ro"]

    live = _dot(run_cli, "--live", "specs", cwd=tmp_path)
    shared = next(
        m["Name"]
        for m in clean_engine.inspect_container("store")["Mounts"]
        if m["Destination"] == "/shared"
    )
    assert live.nodes[node_id(NodeKind.ANONYMOUS, shared)][:2] == [shared[:12], "store:/shared"]
    assert live.fills["volume_data"] == RED
    # Not on the engine yet: drawn for its planned create, once.
    assert live.nodes["volume_logs"] == ["logs", "not on the engine", "create [safe]"]
    assert len([n for n in live.nodes if n.endswith("_logs")]) == 1
    conf = str((tmp_path / "specs" / "conf").resolve())
    assert live.edges[("container_app", node_id(NodeKind.BIND, conf))] == ["/etc/app ro"]
    assert live.edges[("container_app", "container_store")] == ["volumes_from ro"]
    # app reaches /shared through volumes_from: no edge of its own to that volume.
    assert ("container_app", node_id(NodeKind.ANONYMOUS, shared)) not in live.edges
    whole = _dot(run_cli, "--live", cwd=tmp_path)  # the whole engine, no plan to colour
    assert {"container_app", "container_store", "volume_data"} <= set(whole.nodes)
    assert set(whole.fills.values()) <= {"", "none"}


def test_graph_without_an_engine_draws_the_specs_and_says_so(
    run_cli: RunCli, tmp_path: Path
) -> None:
    _write(tmp_path, "1")
    away = {"DOCKER_HOST": NO_ENGINE_HOST}
    result = run_cli("graph", "specs", env=away, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "drawing the specs without a plan" in result.stderr
    assert result.stdout.startswith("flowchart LR\n")
    classes = {
        line.split()[-1] for line in result.stdout.splitlines() if line.startswith("  class ")
    }
    assert classes == {"anonymous"}  # no node coloured by a plan
    offline = run_cli("graph", "specs", "--offline", env=away, cwd=tmp_path)
    assert (offline.exit_code, offline.stderr) == (0, "")
    assert offline.stdout == result.stdout
    missing = run_cli("graph", cwd=tmp_path)
    assert missing.exit_code == 1
    assert "give a spec file or folder to draw, or --live" in missing.stderr


def test_the_readme_pictures_are_what_graph_draws_now(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    """examples/pictures/draw.sh's steps on a copy of the example: the committed Mermaid
    text is the output, and the committed SVG has the nodes, edges and colours of the DOT."""
    shutil.copytree(PICTURES / "shop", tmp_path / "shop")
    assert run_cli("apply", "shop", "--yes", cwd=tmp_path).exit_code == 0
    release = {"RELEASE": "2", "CACHE_STATE": "running"}
    mermaid = run_cli("graph", "shop", "--format", "mermaid", env=release, cwd=tmp_path)
    assert mermaid.exit_code == 0, mermaid.stderr
    assert mermaid.stdout == (PICTURES / "shop.mmd").read_text()
    dot = run_cli("graph", "shop", "--format", "dot", env=release, cwd=tmp_path)
    assert render_svg(dot.stdout) == read_svg((PICTURES / "shop.svg").read_text())
    assert f"```mermaid\n{mermaid.stdout}```" in (PICTURES.parents[1] / "README.md").read_text()
