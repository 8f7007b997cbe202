"""A spec's ``targets: {labels: ...}`` against real engines' ``dockerd --label`` labels.

With no targets file the engine's own labels decide: ``plan specs/`` on a node picks the
specs meant for it. A project the labels leave out is not desired there, and what it
already has on that engine is never pruned, replaced or reported as drift.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import cli_runner
from support.engine import Engine
from support.gitops import write_specs
from support.shared_engine import remove_projects

pytestmark = pytest.mark.engine

SPEC = """\
    version: 1
    project: {project}
    {targets}
    volumes:
      {project}-data: {{}}
    containers:
      {project}-app:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: ["{project}-data:/data"]
    """


def routed(root: Path, project: str, targets: str) -> None:
    write_specs(root, SPEC.format(project=project, targets=targets), name=f"{project}.yaml")


def test_the_engines_labels_pick_its_specs_and_leave_the_others_resources_alone(
    edge_engine: Engine, tmp_path: Path
) -> None:
    run = cli_runner(edge_engine.host)
    remove_projects(edge_engine, "rt-edge", "rt-core", "rt-all")
    routed(tmp_path, "rt-edge", "targets: {labels: {role: edge, zone: a}}")
    routed(tmp_path, "rt-all", "")
    routed(tmp_path, "rt-core", "")
    assert run("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
    core_volume = edge_engine.inspect_volume("rt-core-data")["CreatedAt"]

    routed(tmp_path, "rt-core", "targets: {labels: {role: core}}")
    plan = run("plan", "specs", "--prune", "--allow-data-loss", cwd=tmp_path)
    apply = run("apply", "specs", "--prune", "--allow-data-loss", "--yes", cwd=tmp_path)
    drift = run("drift", "specs", cwd=tmp_path)

    assert plan.exit_code == 0, plan.stderr
    assert "No changes" in plan.stdout
    assert (
        "not for this engine (labels: role=edge, zone=a): project rt-core, by its targets: "
        "labels; not planned here, and its resources here are left alone"
    ) in plan.stderr
    assert apply.exit_code == 0, apply.stderr
    assert drift.exit_code == 0, drift.stdout
    assert edge_engine.inspect_volume("rt-core-data")["CreatedAt"] == core_volume
    assert edge_engine.inspect_container("rt-core-app")["State"]["Running"] is True
    remove_projects(edge_engine, "rt-edge", "rt-core", "rt-all")


def test_an_engine_without_the_labels_gets_only_the_specs_for_everywhere(
    clean_engine: Engine, edge_engine: Engine, tmp_path: Path
) -> None:
    routed(tmp_path, "rt2-edge", "targets: {labels: {role: edge}}")
    routed(tmp_path, "rt2-all", "")

    applied = cli_runner(clean_engine.host)("apply", "specs", "--yes", cwd=tmp_path)
    plan = cli_runner(edge_engine.host)("plan", "specs", "--detailed-exitcode", cwd=tmp_path)

    assert applied.exit_code == 0, applied.stderr
    assert clean_engine.volume_names() == {"rt2-all-data"}
    assert clean_engine.container_names() == {"rt2-all-app"}
    assert plan.exit_code == 2, plan.stderr
    assert "volume.rt2-edge-data" in plan.stdout


def test_specs_that_are_all_for_other_engines_are_nothing_to_do(
    clean_engine: Engine, tmp_path: Path
) -> None:
    routed(tmp_path, "rt3", "targets: {labels: {role: edge}}")
    run = cli_runner(clean_engine.host)

    results = [run(command, "specs", cwd=tmp_path) for command in ("plan", "drift")]
    applied = run("apply", "specs", "--yes", cwd=tmp_path)

    assert [r.exit_code for r in (*results, applied)] == [0, 0, 0], applied.stderr
    assert "project rt3, by its targets: labels" in results[0].stderr
    assert clean_engine.volume_names() == set()
