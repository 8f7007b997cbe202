"""apply --migrate replaces a volume whose config changed without losing a byte of it, and
--backup-dir keeps a restorable backup of every replaced volume."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.volumes import fill, fingerprint

pytestmark = pytest.mark.engine

SPECS = Path(__file__).parent / "data" / "migrate"


@pytest.fixture
def specs(tmp_path: Path, clean_engine: Engine, run_cli: RunCli) -> Path:
    """The spec applied, pgdata filled, then its labels changed in the copy returned."""
    directory = tmp_path / "specs"
    shutil.copytree(SPECS, directory)
    result = run_cli("apply", "--yes", str(directory))
    assert result.exit_code == 0, result.stderr
    fill(clean_engine, "pgdata")
    spec = directory / "app.yaml"
    spec.write_text(spec.read_text().replace("tier: db", "tier: database"))
    return directory


def test_migrate_keeps_content_owners_modes_links_and_empty_dirs(
    specs: Path, clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    before = fingerprint(clean_engine, "pgdata")
    bystander = clean_engine.inspect_container("bystander")["Id"]

    planned = run_cli("plan", "--migrate", str(specs))
    applied = run_cli("apply", "--yes", "--migrate", str(specs))

    assert applied.exit_code == 0, applied.stderr
    steps = [
        line.split()[:3] for line in planned.stdout.splitlines() if line[:1] and line[0] in "+~!-"
    ]
    assert steps == [
        ["-", "remove", "container.db"],
        ["-", "remove", "container.reader"],
        ["+", "copy", "volume.pgdata_volplan-migrate"],
        ["~", "replace", "volume.pgdata"],
        ["+", "copy", "volume.pgdata"],
        ["-", "remove", "volume.pgdata_volplan-migrate"],
        ["+", "create", "container.db"],
        ["+", "create", "container.reader"],
    ]
    assert "destroys-data" not in planned.stdout
    assert clean_engine.inspect_volume("pgdata")["Labels"]["tier"] == "database"
    assert fingerprint(clean_engine, "pgdata") == before
    assert clean_engine.exec_sh("reader", "cat /v/small.txt") == (0, "small\n")
    assert clean_engine.inspect_container("bystander")["Id"] == bystander
    assert clean_engine.volume_names() == {"pgdata", "untouched"}
    assert run_cli("plan", "--detailed-exitcode", str(specs)).exit_code == 0


def test_without_migrate_the_replacement_is_refused(
    specs: Path, clean_engine: Engine, run_cli: RunCli
) -> None:
    before = fingerprint(clean_engine, "pgdata")

    result = run_cli("apply", "--yes", str(specs))

    assert result.exit_code == 1
    assert "refusing to destroy data: volume.pgdata" in result.stderr
    assert "--migrate" in result.stderr
    assert fingerprint(clean_engine, "pgdata") == before


def test_missing_helper_image_fails_before_anything_is_touched(
    specs: Path, clean_engine: Engine, run_cli: RunCli
) -> None:
    containers = {n: clean_engine.inspect_container(n)["Id"] for n in ("db", "reader")}

    result = run_cli(
        "apply", "--yes", "--migrate", "--helper-image", "volplan-absent:1", str(specs)
    )

    assert result.exit_code == 1
    assert "pulling image volplan-absent:1" in result.stderr
    assert "Traceback" not in result.stderr
    assert {n: clean_engine.inspect_container(n)["Id"] for n in containers} == containers
    assert clean_engine.volume_names() == {"pgdata", "untouched"}


def test_backup_dir_keeps_a_restorable_copy_of_a_replaced_volume(
    specs: Path, clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    before = fingerprint(clean_engine, "pgdata")
    backups = tmp_path / "backups"

    applied = run_cli(
        "apply", "--yes", "--allow-data-loss", "--backup-dir", str(backups), str(specs)
    )

    assert applied.exit_code == 0, applied.stderr
    assert "+ backup volume.pgdata: done" in applied.stderr
    (archive,) = backups.glob("pgdata-*.tar.gz")
    restored = run_cli("restore", "recovered", str(archive))
    assert restored.exit_code == 0, restored.stderr
    assert fingerprint(clean_engine, "recovered") == before
