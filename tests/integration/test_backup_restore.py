"""volplan backup / restore against the real engine: byte-identical round trips."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from docker.types import Mount
from support.cli import RunCli
from support.engine import IMAGE, Engine
from support.volumes import data_volume_container, fill, fingerprint

pytestmark = pytest.mark.engine


@pytest.mark.parametrize("suffix", [".tar", ".tar.gz"])
def test_volume_round_trip_is_byte_identical(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path, suffix: str
) -> None:
    clean_engine.client.create_volume("precious")
    fill(clean_engine, "precious")
    before = fingerprint(clean_engine, "precious")
    archive = tmp_path / f"precious{suffix}"

    backed_up = run_cli("backup", "precious", "-o", str(archive))
    restored = run_cli("restore", "copy", str(archive))

    assert backed_up.exit_code == 0, backed_up.stderr
    assert "Backed up volume precious" in backed_up.stdout
    assert restored.exit_code == 0, restored.stderr
    assert fingerprint(clean_engine, "copy") == before
    assert not list(tmp_path.glob("*.partial"))
    with tarfile.open(archive) as tar:
        assert {n.split("/")[0] for n in tar.getnames()} == {"precious"}
    assert clean_engine.container_names() == set()  # helpers are gone


def test_restore_refuses_a_volume_with_data_unless_forced(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    clean_engine.client.create_volume("source")
    fill(clean_engine, "source", "echo new > /v/file")
    clean_engine.client.create_volume("busy")
    fill(clean_engine, "busy", "echo old > /v/file; echo other > /v/kept")
    archive = tmp_path / "source.tar"
    assert run_cli("backup", "volume:source", "-o", str(archive)).exit_code == 0

    refused = run_cli("restore", "busy", str(archive))
    assert refused.exit_code == 1
    assert "already holds data" in refused.stderr
    assert "--force" in refused.stderr
    assert clean_engine.run_with_volumes("cat /v/file", mounts=[Mount("/v", "busy")]) == (
        0,
        "old\n",
    )

    forced = run_cli("restore", "busy", str(archive), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert clean_engine.run_with_volumes("cat /v/file /v/kept", mounts=[Mount("/v", "busy")]) == (
        0,
        "new\nother\n",
    )


def test_container_backup_holds_all_its_volumes_under_their_paths(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    client = clean_engine.client
    client.create_volume("named")
    client.create_container(
        IMAGE,
        ["true"],
        name="dbstore",
        volumes=["/dbdata", "/var/lib/extra"],
        host_config=client.create_host_config(
            network_mode="none", mounts=[Mount("/dbdata", "named")]
        ),
    )
    code, output = clean_engine.run_with_volumes(
        "echo db > /dbdata/db.txt && mkdir /var/lib/extra/d && echo x > /var/lib/extra/d/x",
        volumes_from=["dbstore"],
    )
    assert code == 0, output
    archive = tmp_path / "dbstore.tar.gz"

    backed_up = run_cli("backup", "container:dbstore", "-o", str(archive))
    assert backed_up.exit_code == 0, backed_up.stderr
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"dbdata/db.txt", "var/lib/extra/d/x"} <= names

    data_volume_container(clean_engine, "fresh", ["/dbdata", "/var/lib/extra"])
    restored = run_cli("restore", "fresh", str(archive))
    assert restored.exit_code == 0, restored.stderr
    assert clean_engine.run_with_volumes(
        "cat /dbdata/db.txt /var/lib/extra/d/x", volumes_from=["fresh"]
    ) == (0, "db\nx\n")


def test_missing_helper_image_is_a_clear_error_before_anything(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    clean_engine.client.create_volume("data")

    result = run_cli(
        "backup", "data", "-o", str(tmp_path / "b.tar"), "--helper-image", "volplan-absent:1"
    )

    assert result.exit_code == 1
    assert "volplan-absent:1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())
    assert clean_engine.container_names() == set()
