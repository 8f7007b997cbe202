"""``volplan backup`` and ``restore``: a volume, or all the volumes of a container, as a tar file.

The file reads like ``tar cf`` would write it: a volume's backup holds one top directory
named after the volume; a container's holds each volume under its mount path, as
``docker run --volumes-from C ... tar cf /backup/b.tar /dbdata`` does. Content streams
between the engine and the file through the archive endpoints (see volume_io), chunk by
chunk, so the helper image needs no shell and a large volume is never held in memory.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import tarfile
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from reconciler.content.volume_io import (
    ChunkReader,
    below_top,
    has_content,
    helper_container,
    manifest_of,
    open_tar_stream,
    volume_manifest,
)
from reconciler.engine.base import Engine, VolumeCreate
from reconciler.errors import BackupError, VolplanError
from reconciler.identity import ResourceKind
from reconciler.live.reader import read_live_state

Progress = Callable[[int], None]
"""Called with the number of bytes just moved, for a progress display."""
_READ_BYTES = 1 << 20


@dataclass(frozen=True)
class Target:
    """What to back up or restore: ``volumes`` pairs each archive path with a volume name."""

    kind: ResourceKind
    name: str
    volumes: tuple[tuple[str, str], ...]
    created: bool = False
    """The volume was created for a restore, so a failed restore removes it again."""

    @classmethod
    def volume(cls, name: str) -> Target:
        return cls(ResourceKind.VOLUME, name, ((name, name),))

    @property
    def mounts(self) -> dict[str, str]:
        return {f"/{path}": volume for path, volume in self.volumes}


@dataclass(frozen=True)
class Summary:
    entries: int
    content_bytes: int


def resolve_target(engine: Engine, reference: str, *, create_missing: bool = False) -> Target:
    """``volume:NAME``, ``container:NAME`` or a bare name that is exactly one of the two."""
    kind, _, name = reference.rpartition(":")
    if kind not in {"", "volume", "container"}:
        raise BackupError(f"{reference!r}: write NAME, volume:NAME or container:NAME")
    live = read_live_state(engine)
    is_volume = name in live.volumes and kind != "container"
    is_container = name in live.containers and kind != "volume"
    if is_volume and is_container:
        raise BackupError(
            f"{name!r} is both a volume and a container: write volume:{name} or container:{name}"
        )
    if is_container:
        mounts = live.containers[name].mounts
        pairs = tuple(
            (m.target.lstrip("/"), m.name) for m in mounts if m.type == "volume" and m.name
        )
        if not pairs:
            raise BackupError(f"container {name} mounts no volume (bind mounts are not backed up)")
        return Target(ResourceKind.CONTAINER, name, pairs)
    if is_volume:
        return Target.volume(name)
    if create_missing and kind != "container":
        engine.create_volume(VolumeCreate(name=name, driver="local", driver_opts={}, labels={}))
        return replace(Target.volume(name), created=True)
    raise BackupError(f"no {kind or 'volume or container'} named {name!r} on the engine")


def backup(engine: Engine, image: str, target: Target, output: Path, progress: Progress) -> Summary:
    """Write ``target``'s volumes to ``output`` (.tar, or gzip for .tar.gz/.tgz).

    The file appears under its name only once complete; until then it is ``NAME.partial``,
    which any failure (a full disk, an engine gone) removes: nothing partial is left. It is
    readable by its owner only, like a saved plan: volume data is at least as private.
    """
    partial = output.with_name(output.name + ".partial")
    try:
        _create_private(partial)
        with tarfile.open(str(partial), "w|gz" if _is_gzip(output) else "w|") as out:
            summary = _write_volumes(engine, image, target, out, progress)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{output}: cannot be written ({exc})") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)
    return summary


def _write_volumes(
    engine: Engine, image: str, target: Target, out: tarfile.TarFile, progress: Progress
) -> Summary:
    entries = content_bytes = 0
    with helper_container(engine, image, purpose="backup", volumes=target.mounts) as helper:
        for path, _ in target.volumes:
            # Closed before the helper is removed, even on a failure: the engine does not
            # remove a container whose archive it is still streaming, and would wait forever.
            with closing(engine.get_archive(helper, f"/{path}")) as chunks:
                added = _add_entries(out, ChunkReader(chunks), path, progress)
            entries += added.entries
            content_bytes += added.content_bytes
    return Summary(entries, content_bytes)


def _add_entries(
    out: tarfile.TarFile, reader: ChunkReader, path: str, progress: Progress
) -> Summary:
    """Copy the entries of the engine's tar of ``/path`` into ``out``, under ``path``."""
    entries = content_bytes = 0
    with open_tar_stream(reader) as archive:
        for member in archive:
            _rebase(member, posixpath.basename(path), path)
            out.addfile(member, archive.extractfile(member) if member.isreg() else None)
            entries += 1
            content_bytes += member.size if member.isreg() else 0
            progress(reader.take_count())
    return Summary(entries, content_bytes)


def _rebase(member: tarfile.TarInfo, old_top: str, new_top: str) -> None:
    """The engine names entries after the last path segment; restore the full mount path."""
    member.name = new_top + below_top(member.name)[len(old_top) :]
    if member.islnk():
        member.linkname = new_top + member.linkname[len(old_top) :]


def restore(
    engine: Engine, image: str, target: Target, archive: Path, *, force: bool, progress: Progress
) -> Summary:
    """Extract ``archive`` into ``target``'s volumes; refuse one with content unless ``force``.

    A volume restored into an empty volume is then compared with the file, entry by entry.
    A restore that fails removes the volume it created, so it leaves nothing behind.
    """
    try:
        return _restore(engine, image, target, archive, force=force, progress=progress)
    except BaseException:
        if target.created:
            _remove_quietly(engine, target.name)
        raise


def _remove_quietly(engine: Engine, volume: str) -> None:
    """While the restore's own error propagates, a failure here must not hide it."""
    with suppress(VolplanError):
        engine.remove_volume(volume)


def _restore(
    engine: Engine, image: str, target: Target, archive: Path, *, force: bool, progress: Progress
) -> Summary:
    mounts = _restore_mounts(target, _top_paths(archive))
    with helper_container(engine, image, purpose="restore", volumes=mounts) as helper:
        _refuse_content(engine, helper, target, mounts, force=force)
        engine.put_archive(helper, "/", _counted(_file_chunks(archive), progress))
        if target.kind is not ResourceKind.VOLUME:
            return _summary(archive)
        landed = volume_manifest(engine, helper, next(iter(mounts)))
    expected = manifest_of(_file_chunks(archive))
    if not force and landed != expected:
        raise BackupError(
            f"volume {target.name} does not match {archive} after restoring: the file has "
            f"{expected}, the volume has {landed}"
        )
    return Summary(expected.entries, expected.content_bytes)


def _restore_mounts(target: Target, tops: set[str]) -> dict[str, str]:
    """Where the helper mounts each volume so the file's paths land in them."""
    if target.kind is ResourceKind.VOLUME:
        if len(tops) != 1 or any("/" in top for top in tops):
            raise BackupError(
                "this file is not a volume backup (it must hold exactly one top directory); "
                "restore it into the container it was taken from"
            )
        return {f"/{tops.pop()}": target.name}
    outside = sorted(
        top for top in tops if not any(_within(top, path) for path, _ in target.volumes)
    )
    if outside:
        raise BackupError(
            f"the file holds {', '.join(outside)}, which no volume of container {target.name} "
            f"is mounted at (it mounts {', '.join('/' + p for p, _ in target.volumes)})"
        )
    return target.mounts


def _within(path: str, mount: str) -> bool:
    return path == mount or path.startswith(mount + "/")


def _top_paths(archive: Path) -> set[str]:
    """The mount paths a backup file's entries belong to: for each entry, the shortest
    path among the directories that hold no parent entry in the file."""
    names = []
    try:
        with open_tar_stream(_file_chunks(archive)) as tar:
            names = [member.name.strip("/") for member in tar]
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive}: not a readable tar file ({exc})") from exc
    present = set(names)
    return {n for n in names if posixpath.dirname(n) not in present} - {""}


def _refuse_content(
    engine: Engine, helper: str, target: Target, mounts: dict[str, str], *, force: bool
) -> None:
    """Refuse volumes that hold data, unless ``force``. Read even with ``force``: reading
    first is what refuses an engine whose archive endpoints would put the file elsewhere
    (volume_io.below_top), before anything is written; a container's restore is not read
    back afterwards."""
    full = [
        f"{volume} (at {path})"
        for path, volume in mounts.items()
        if has_content(engine, helper, path)
    ]
    if full and not force:
        raise BackupError(
            f"refusing to restore into {target.kind} {target.name}: {', '.join(full)} already "
            "holds data, which the backup would be mixed into. Re-run with --force to "
            "overwrite files of the same name."
        )


def _summary(archive: Path) -> Summary:
    entries = content_bytes = 0
    with open_tar_stream(_file_chunks(archive)) as tar:
        for member in tar:
            entries += 1
            content_bytes += member.size if member.isreg() else 0
    return Summary(entries, content_bytes)


def _create_private(path: Path) -> None:
    """An empty file only its owner can read, whatever the umask or an earlier file's mode."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)


def _is_gzip(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz"))


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        with gzip.open(path, "rb") if _is_gzip(path) else path.open("rb") as file:
            while chunk := file.read(_READ_BYTES):
                yield chunk
    except (OSError, EOFError) as exc:
        raise BackupError(f"{path}: cannot be read ({exc})") from exc


def _counted(chunks: Iterator[bytes], progress: Progress) -> Iterator[bytes]:
    for chunk in chunks:
        progress(len(chunk))
        yield chunk


def backup_file_name(volume: str, now: datetime | None = None) -> str:
    """``DATA-20260102T030405Z.tar.gz``: sorts by time, never overwrites an earlier backup."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{volume}-{stamp}.tar.gz"
