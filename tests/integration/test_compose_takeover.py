"""Taking over a project docker-compose 1.29.2 runs, without losing a byte of its data.

docker-compose starts tests/compose/takeover on the private engine (every service has
``network_mode: none``, and the test checks that Compose made no network); data goes into
each kind of volume it made: a named one (``takeover_db-data``), anonymous ones (``/scratch``,
and ``/archive`` of a data-volume container), an image's (``VOLUME /var/lib/db``). Then
``volplan import compose --compatibility`` and ``volplan apply``: the volumes are adopted,
the containers recreated under volplan's labels with their anonymous and image volumes
carried over, and the data is read back inside the new containers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import compose_oracle
from support.cli import RunCli
from support.compose_corpus import TESTS
from support.compose_images import REAL_VOLUMES, build_stand_ins
from support.engine import Engine

pytestmark = pytest.mark.engine

PROJECT = "takeover"
WRITES = {
    "takeover_db_1": ["/data", "/scratch", "/var/lib/db"],
    "takeover_store_1": ["/archive"],
}


def test_a_running_compose_project_is_taken_over_with_its_data(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    project = tmp_path / PROJECT
    shutil.copytree(TESTS / "compose" / PROJECT, project)
    (project / "conf").mkdir()
    REAL_VOLUMES.setdefault("volplan-test/takeover-db", ("/var/lib/db",))
    build_stand_ins(clean_engine, ["busybox:latest", "volplan-test/takeover-db:1"])
    networks = {n["Name"] for n in clean_engine.client.networks()}
    env = {"DOCKER_HOST": clean_engine.host, "HOME": str(tmp_path)}
    try:
        compose_oracle.run(["-p", PROJECT, "up", "-d"], cwd=project, env=env)
        assert {n["Name"] for n in clean_engine.client.networks()} == networks
        before = _write_data(clean_engine)

        imported = run_cli(
            "import", "compose", "docker-compose.yml", "--compatibility", "-o", "specs", cwd=project
        )
        assert imported.exit_code == 0, imported.stderr
        assert imported.stdout == "Wrote specs/takeover.yaml: 1 volume, 3 containers.\n"
        applied = run_cli("apply", "specs", "--yes", cwd=project)
        assert applied.exit_code == 0, applied.stderr + applied.stdout

        for name, old_id in before.items():
            container = clean_engine.inspect_container(name)
            assert container["Id"] != old_id, f"{name} was not recreated"
            assert container["State"]["Running"]
            assert "io.volplan.project" in container["Config"]["Labels"]
        _check_data(clean_engine)
        replan = run_cli("plan", "specs", "--detailed-exitcode", cwd=project)
        assert replan.exit_code == 0, replan.stdout
    finally:
        clean_engine.reset()


def _write_data(engine: Engine) -> dict[str, str]:
    """A file in each volume, named for the container and path; the containers' IDs."""
    for container, paths in WRITES.items():
        script = " && ".join(f"echo {container}:{path} > {path}/kept" for path in paths)
        assert engine.exec_sh(container, script) == (0, "")
    return {
        name: engine.inspect_container(name)["Id"]
        for name in ("takeover_db_1", "takeover_store_1", "takeover_app_1")
    }


def _check_data(engine: Engine) -> None:
    """Every file, read inside the new containers (and through app's volumes_from)."""
    for container, paths in WRITES.items():
        for reader in (container, "takeover_app_1"):
            for path in paths:
                assert engine.exec_sh(reader, f"cat {path}/kept") == (0, f"{container}:{path}\n")
