"""SIGTERM to a fleet's apply, mid-run across two engines: every engine-side lock is
released at once (not left for its lease), the action running finishes, none starts after
it, and the next run converges with the volumes' data intact.

The engines are this worker's and the shared labelled one (``edge_engine``); the project
is this module's own, since the labelled engine is shared between the workers.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from support.cli import NO_ENGINE_HOST, cli_runner
from support.engine import Engine
from support.gitops import await_stopping, start_cli, write_specs, write_targets
from support.shared_engine import remove_projects

from reconciler.apply.lock import lock_name

pytestmark = pytest.mark.engine

PROJECT = "fl4"
APP = """\
    version: 1
    project: fl4
    volumes:
      fl4-data: {{}}
    containers:
      fl4-app:
        image: busybox:latest
        command: ["sleep", "300"]
        network_mode: none
        stop_timeout: 2
        environment: {{ROUND: "{round}"}}
        mounts: ["fl4-data:/data"]
    """
LATE = """\
      fl4-late:
        image: busybox:latest
        command: ["sleep", "300"]
        network_mode: none
        stop_timeout: 1
        depends_on: [fl4-app]
    """
"""Added in round 2: created only once ``fl4-app``'s recreate (a 2 s stop: its ``sleep``
is pid 1, which ignores SIGTERM) is done, so a SIGTERM during that stop leaves it unstarted."""


@pytest.fixture
def edge(edge_engine: Engine) -> Engine:
    remove_projects(edge_engine, PROJECT)
    return edge_engine


def test_sigterm_mid_apply_releases_every_lock_at_once_and_the_next_run_converges(
    clean_engine: Engine, edge: Engine, tmp_path: Path
) -> None:
    engines = (clean_engine, edge)
    write_specs(tmp_path, APP.format(round=1), name="app.yaml")
    write_targets(tmp_path, {"here": {"host": clean_engine.host}, "edge": {"host": edge.host}})
    run = cli_runner(NO_ENGINE_HOST)
    fleet = ("apply", "--yes", "specs", "--targets", "targets.yaml")
    assert run(*fleet, cwd=tmp_path).exit_code == 0
    for engine in engines:
        assert engine.exec_sh("fl4-app", "echo precious > /data/f") == (0, "")
    write_specs(tmp_path, APP.format(round=2).rstrip() + "\n" + LATE, name="app.yaml")

    since = time.time()
    apply = start_cli(NO_ENGINE_HOST, *fleet, cwd=tmp_path, env={"VOLPLAN_LOCK_LEASE": "60"})
    try:
        for engine in engines:
            await_stopping(engine, "fl4-app", since)
        held = [lock_name(PROJECT) in e.container_names() for e in engines]
        apply.send_signal(signal.SIGTERM)
        stdout, stderr = apply.communicate(timeout=60)
    finally:
        apply.kill()
    left = [lock_name(PROJECT) in e.container_names() for e in engines]
    late = ["fl4-late" in e.container_names() for e in engines]
    again = run(*fleet, cwd=tmp_path)
    planned = run("plan", "specs", "--targets", "targets.yaml", cwd=tmp_path)

    assert held == [True, True]
    assert apply.returncode == 128 + signal.SIGTERM, stdout + stderr
    assert left == [False, False], stdout + stderr
    assert late == [False, False], stdout + stderr
    assert "SIGTERM: stopping: no new action starts" in stderr
    assert stdout.count("error: stopped by SIGTERM: of the plan's actions 1 done, 1 never") == 2
    assert stdout.count("Not done (1):\n  create container.fl4-late\n") == 2, stdout
    assert again.exit_code == 0, again.stdout + again.stderr
    assert planned.exit_code == 0, planned.stdout
    for engine in engines:
        assert engine.exec_sh("fl4-late", "true")[0] == 0
        assert engine.exec_sh("fl4-app", "cat /data/f; echo $ROUND") == (0, "precious\n2\n")
    remove_projects(edge, PROJECT)
