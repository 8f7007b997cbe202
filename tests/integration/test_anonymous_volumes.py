"""A data-volume container's anonymous volumes survive recreates of it and its consumers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.volumes import data_volume_container

pytestmark = pytest.mark.engine

SPECS = Path(__file__).parent / "data" / "anonymous"
WRITE = "echo data > /data/f && mkdir /conf/d && echo conf > /conf/d/c"
READ = "cat /data/f /conf/d/c"


def _respec(directory: Path) -> None:
    spec = directory / "app.yaml"
    spec.write_text(spec.read_text().replace('REV: "1"', 'REV: "2"'))


def test_data_written_through_volumes_from_survives_recreating_both(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    shutil.copytree(SPECS, tmp_path, dirs_exist_ok=True)
    assert run_cli("apply", "--yes", str(tmp_path)).exit_code == 0
    assert clean_engine.exec_sh("app", WRITE) == (0, "")
    volumes = clean_engine.volume_names()
    old_ids = {n: clean_engine.inspect_container(n)["Id"] for n in ("store", "app")}
    _respec(tmp_path)

    result = run_cli("apply", "--yes", str(tmp_path))

    assert result.exit_code == 0, result.stderr
    assert "~ recreate container.store: done" in result.stderr
    assert "~ recreate container.app: done" in result.stderr
    assert all(clean_engine.inspect_container(n)["Id"] != i for n, i in old_ids.items())
    assert clean_engine.exec_sh("app", READ) == (0, "data\nconf\n")
    assert clean_engine.volume_names() == volumes  # the same two, none orphaned or added


def test_a_data_volume_container_made_by_docker_keeps_its_volumes_when_adopted(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    data_volume_container(clean_engine, "store", ["/data", "/conf"])
    assert clean_engine.run_with_volumes(WRITE, volumes_from=["store"]) == (0, "")
    volumes = clean_engine.volume_names()
    shutil.copytree(SPECS, tmp_path, dirs_exist_ok=True)

    result = run_cli("apply", "--yes", str(tmp_path))

    assert result.exit_code == 0, result.stderr
    assert "~ adopt container.store: done" in result.stderr
    assert clean_engine.exec_sh("app", READ) == (0, "data\nconf\n")
    assert clean_engine.volume_names() == volumes
