"""Backups and restores that fail midway leave nothing behind: faults a real engine gives
only at random moments (the engine going away mid-stream), injected into the fake one."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Generator, Iterable
from pathlib import Path

import pytest

from reconciler.content.backup import Target, backup, resolve_target, restore
from reconciler.engine.fake import FakeEngine
from reconciler.errors import EngineUnreachable

IMAGE = "volplan-helper:empty"


class GoneMidStream(FakeEngine):
    """Streams the first half of a volume's tar, then the engine is gone."""

    def get_archive(self, ref: str, path: str) -> Generator[bytes, None, None]:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            member = tarfile.TarInfo("data/big")
            member.size = 1 << 16
            tar.addfile(member, io.BytesIO(bytes(member.size)))
        yield buffer.getvalue()[: 1 << 15]
        raise EngineUnreachable(f"reading {path} from container {ref}: the engine did not answer")

    def put_archive(self, ref: str, path: str, chunks: Iterable[bytes]) -> None:
        raise EngineUnreachable(f"writing into {path} of container {ref}: the engine is gone")


def _volume_backup(path: Path) -> Path:
    with tarfile.open(path, "w") as tar:
        top = tarfile.TarInfo("data")
        top.type = tarfile.DIRTYPE
        tar.addfile(top)
        tar.addfile(tarfile.TarInfo("data/a"), io.BytesIO(b""))
    return path


def test_a_backup_cut_short_by_the_engine_leaves_no_file(tmp_path: Path) -> None:
    engine = GoneMidStream(images={IMAGE})

    with pytest.raises(EngineUnreachable):
        backup(engine, IMAGE, Target.volume("data"), tmp_path / "data.tar", lambda _: None)

    assert list(tmp_path.iterdir()) == []
    assert engine.containers == {}  # the helper is removed too


def test_a_failed_restore_removes_the_volume_it_created(tmp_path: Path) -> None:
    engine = GoneMidStream(images={IMAGE})
    archive = _volume_backup(tmp_path / "data.tar")
    target = resolve_target(engine, "data", create_missing=True)

    with pytest.raises(EngineUnreachable):
        restore(engine, IMAGE, target, archive, force=True, progress=lambda _: None)

    assert engine.volumes == {}
    assert engine.containers == {}


def test_a_failed_restore_keeps_a_volume_that_was_there(tmp_path: Path) -> None:
    engine = GoneMidStream(images={IMAGE})
    archive = _volume_backup(tmp_path / "data.tar")
    resolve_target(engine, "data", create_missing=True)
    target = resolve_target(engine, "data", create_missing=True)

    with pytest.raises(EngineUnreachable):
        restore(engine, IMAGE, target, archive, force=True, progress=lambda _: None)

    assert list(engine.volumes) == ["data"]
