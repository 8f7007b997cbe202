"""No registry, no image, full disks and an engine restart, against real private engines.

``bare_engine`` is a private engine from which every image was removed: volplan's lock,
backup, restore and migrate must work there with nothing but the empty helper image they
import themselves. ``restarted`` is a private engine whose dockerd this test stops with
SIGTERM in the middle of an apply, and starts again.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker.types import Mount
from support.cli import RunCli, cli_runner
from support.engine import Engine, start_engine, stop_engine
from support.gitops import SLOW, await_stopping, start_cli, write_specs

from reconciler.engine.base import DEFAULT_HELPER_IMAGE

pytestmark = pytest.mark.engine

DATA = """\
    version: 1
    project: vault
    volumes:
      data:
        labels: {{rev: "{rev}"}}
    """
FILES = {"data/a.txt": b"alpha\n", "data/sub/b.bin": bytes(range(256)) * 64}


@pytest.fixture(scope="module")
def bare_engine() -> Iterator[Engine]:
    directory = Path(tempfile.mkdtemp(prefix="volplan-bare-", dir="/tmp"))
    engine = start_engine(directory)
    try:
        for image in engine.client.images():
            engine.client.remove_image(image["Id"], force=True)
        yield engine
    finally:
        engine.client.close()
        stop_engine(directory)


def _backup_file(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for directory in ("data", "data/sub"):
            member = tarfile.TarInfo(directory)
            member.type, member.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(member)
        for name, content in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(content)
            tar.addfile(member, io.BytesIO(content))
    return path


def _contents(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar
            if m.isreg()
        }


def test_backup_restore_and_migrate_need_no_image_and_no_registry(
    bare_engine: Engine, tmp_path: Path
) -> None:
    run = cli_runner(bare_engine.host)
    assert bare_engine.client.images() == []
    source = _backup_file(tmp_path / "source.tar", FILES)
    write_specs(tmp_path, DATA.format(rev=1))

    created = run("apply", "specs", "--yes", cwd=tmp_path)
    restored = run("restore", "data", str(source))
    write_specs(tmp_path, DATA.format(rev=2))
    migrated = run("apply", "specs", "--yes", "--migrate", cwd=tmp_path)
    backed_up = run("backup", "data", "-o", str(tmp_path / "after.tar"))

    for result in (created, restored, migrated, backed_up):
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "pulling" not in result.stderr
    assert "copy" in migrated.stdout
    assert _contents(tmp_path / "after.tar") == FILES
    tags = [tag for image in bare_engine.client.images() for tag in image["RepoTags"] or ()]
    assert tags == [DEFAULT_HELPER_IMAGE]
    assert bare_engine.client.containers(all=True) == []  # no helper, no lock left


def test_a_failed_restore_leaves_no_volume_it_created(bare_engine: Engine, tmp_path: Path) -> None:
    run = cli_runner(bare_engine.host)
    two_tops = tmp_path / "two.tar"
    with tarfile.open(two_tops, "w") as tar:
        for name in ("one/a", "two/b"):
            member = tarfile.TarInfo(name)
            tar.addfile(member, io.BytesIO(b""))

    failed = run("restore", "fresh", str(two_tops))

    assert failed.exit_code == 1
    assert "not a volume backup" in failed.stderr
    assert "fresh" not in {v["Name"] for v in bare_engine.client.volumes()["Volumes"] or []}
    assert bare_engine.client.containers(all=True) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs to back up into; unmounted afterwards."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_backup_onto_a_full_disk_leaves_no_partial_file(
    clean_engine: Engine, run_cli: RunCli, small_disk: Path
) -> None:
    clean_engine.client.create_volume("big")
    written = clean_engine.run_with_volumes(
        "head -c 3000000 /dev/urandom > /big/random && echo ok > /big/small",
        mounts=[Mount("/big", "big")],
    )
    assert written == (0, "")

    failed = run_cli("backup", "big", "-o", str(small_disk / "big.tar"))

    assert failed.exit_code == 1
    assert "No space left on device" in failed.stderr
    assert list(small_disk.iterdir()) == []
    assert clean_engine.container_names() == set()


def test_dockerd_restarted_mid_apply_ends_it_clearly_and_the_next_converges(
    tmp_path: Path,
) -> None:
    directory = Path(tempfile.mkdtemp(prefix="volplan-restart-", dir="/tmp"))
    private = start_engine(directory)
    try:
        run = cli_runner(private.host)
        write_specs(tmp_path, SLOW.format(stop=30, round=1))
        assert run("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
        assert private.exec_sh("app", "echo precious > /data/f") == (0, "")
        write_specs(tmp_path, SLOW.format(stop=30, round=2))
        apply = start_cli(private.host, "apply", "specs", "--yes", cwd=tmp_path)
        await_stopping(private, "app")
        dockerd = int((directory / "dockerd.pid").read_text())
        subprocess.run(["kill", "-TERM", str(dockerd)], check=True)
        stdout, stderr = apply.communicate(timeout=120)
        private.client.close()
        private = start_engine(directory)
        run = cli_runner(private.host)
        again = run("apply", "specs", "--yes", cwd=tmp_path)
        plan = run("plan", "--detailed-exitcode", "specs", cwd=tmp_path)
        data = private.exec_sh("app", "cat /data/f")
    finally:
        private.client.close()
        stop_engine(directory)

    assert apply.returncode == 1, stdout + stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert "engine" in errors[0]
    assert again.exit_code == 0, again.stdout + again.stderr
    assert plan.exit_code == 0, plan.stdout
    assert data == (0, "precious\n")
