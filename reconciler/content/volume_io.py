"""A volume's content as a tar stream, through the Engine API's archive endpoints.

A helper container is created, never started, with the volumes mounted; the engine streams
a mounted path as a tar (GET /containers/{id}/archive) and extracts a tar into it (PUT).
The helper image only has to exist, nothing runs in it, so it needs no shell or tar.
Ownership, modes, symlinks and empty directories travel in the tar headers; content is
streamed chunk by chunk and never held in memory whole. Every stream is closed before its
helper is removed, failure or not: the engine does not remove a container whose archive
it is still streaming, so an unclosed stream would hang the removal.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from itertools import islice

from reconciler import labels
from reconciler.engine.base import ContainerCreate, Engine
from reconciler.errors import CopyMismatch, EngineError, VolplanError
from reconciler.model import Mount, MountKind

MOUNT_POINT = "/volplan-volume"
_READ_BYTES = 1 << 20


@contextmanager
def helper_container(
    engine: Engine,
    image: str,
    *,
    purpose: str,
    volumes: Mapping[str, str] | None = None,
    volumes_from: tuple[str, ...] = (),
) -> Iterator[str]:
    """A created, never started container mounting ``volumes`` ({path: volume}); removed after.

    Its label lets the next plan find and remove it if a crash leaves it behind (it would
    otherwise hold the volumes it mounts).
    """
    request = ContainerCreate(
        name=f"volplan-helper-{uuid.uuid4().hex[:12]}",
        image=image,
        command=("true",),
        labels={labels.HELPER: purpose},
        mounts=tuple(
            Mount(target=path, kind=MountKind.VOLUME, source=name, nocopy=True)
            for path, name in sorted((volumes or {}).items())
        ),
        volumes_from=volumes_from,
        network_mode="none",
    )
    ref = engine.create_container(request)
    failed = False
    try:
        yield ref
    except BaseException:
        failed = True
        raise
    finally:
        _remove_helper(engine, ref, quietly=failed)


def _remove_helper(engine: Engine, ref: str, *, quietly: bool) -> None:
    """Remove the helper; while another error propagates, a failure here must not hide it."""
    try:
        engine.remove_container(ref)
    except VolplanError:
        if not quietly:
            raise


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, counting what it hands out."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.count += size
        return size

    def take_count(self) -> int:
        """Bytes handed out since the last call."""
        count, self.count = self.count, 0
        return count


def open_tar_stream(source: Iterable[bytes] | ChunkReader) -> tarfile.TarFile:
    """A forward-only tar reader over streamed chunks."""
    reader = source if isinstance(source, ChunkReader) else ChunkReader(source)
    return tarfile.open(fileobj=io.BufferedReader(reader), mode="r|")


@dataclass(frozen=True)
class Manifest:
    """What a copy must preserve, summed up: entry count, content bytes and one digest.

    The digest covers every entry's path, type, mode, owner, link target and content,
    sorted by path, so two volumes with the same tree get the same digest whatever order
    the engine lists them in. Modification times are left out: a copy gets new ones.
    """

    entries: int
    content_bytes: int
    digest: str

    def __str__(self) -> str:
        return f"{self.entries} entries, {self.content_bytes} bytes, sha256 {self.digest[:12]}"


def relative_name(name: str) -> str:
    """A member's path below the archived directory: ``dir/a/b`` -> ``a/b``, ``dir`` -> ``""``."""
    return below_top(name).strip("/").partition("/")[2]


def below_top(name: str) -> str:
    """``name`` of a member of the engine's tar of a directory, checked to be below the
    directory's own name, as dockerd names them.

    Podman (4.3) names them relative to the directory with a leading slash (``""``, ``/a``)
    and its archives cannot carry a volume faithfully: a read reports every entry as owned
    by the reading container's user, whoever owns it, so a backup or copy would hand every
    file to one owner unseen (both sides of a check read through the same rewrite, so
    their manifests agree); a tar put at ``/`` lands in the container's root file system,
    not in a volume mounted below (one put at the mount path itself lands in the volume,
    owners and all, but could not be checked by reading it back). Refused, before anything
    is written (tests/integration/test_podman_differences.py pins each of these).
    """
    if not name or name.startswith("/"):
        raise EngineError(
            f"the engine's archive names an entry {name!r}, relative to the directory (as "
            "Podman 4.x does) rather than below its name (as dockerd does); such an engine "
            "reports every entry as owned by the reading container's user, so a backup, "
            "restore or copy through it would lose file ownership: volplan does not move "
            "volume content through this engine's archive endpoints; nothing was changed"
        )
    return name


def manifest_of(chunks: Iterable[bytes]) -> Manifest:
    """Read a tar stream once, hashing each entry's metadata and content."""
    lines = []
    content_bytes = 0
    with open_tar_stream(chunks) as archive:
        for member in archive:
            content = hashlib.sha256()
            if member.isreg():
                stream = archive.extractfile(member)
                assert stream is not None  # a regular member always has a body
                while block := stream.read(_READ_BYTES):
                    content.update(block)
                content_bytes += member.size
            lines.append(
                "\0".join(
                    (
                        relative_name(member.name),
                        member.type.decode(),
                        oct(member.mode & 0o7777),
                        f"{member.uid}:{member.gid}",
                        member.linkname,
                        content.hexdigest(),
                    )
                )
            )
    digest = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    return Manifest(len(lines), content_bytes, digest)


def volume_manifest(engine: Engine, helper: str, path: str) -> Manifest:
    with closing(engine.get_archive(helper, path)) as chunks:
        return manifest_of(chunks)


def has_content(engine: Engine, helper: str, path: str) -> bool:
    """Whether the directory at ``path`` holds any entry; reads at most two tar headers."""
    with closing(engine.get_archive(helper, path)) as chunks, open_tar_stream(chunks) as archive:
        return any(relative_name(member.name) for member in islice(archive, 2))


def copy_volume(engine: Engine, image: str, *, source: str, target: str) -> Manifest:
    """Copy every entry of volume ``source`` into ``target`` and prove the copy matches.

    Entries already in ``target`` are overwritten; an entry only ``target`` holds makes the
    verification fail, so a stale target is reported rather than silently kept.
    """
    # Two helpers: the engine locks a container for an archive request, so reading from and
    # writing into the same one at once would wait forever.
    with (
        helper_container(engine, image, purpose="copy", volumes={MOUNT_POINT: source}) as reader,
        helper_container(engine, image, purpose="copy", volumes={MOUNT_POINT: target}) as writer,
    ):
        # The tar holds the mount point itself, so extracting it at / also gives the
        # target's root directory the source's owner and mode.
        with closing(engine.get_archive(reader, MOUNT_POINT)) as chunks:
            engine.put_archive(writer, "/", chunks)
        copied = volume_manifest(engine, reader, MOUNT_POINT)
        landed = volume_manifest(engine, writer, MOUNT_POINT)
    if copied != landed:
        raise CopyMismatch(
            f"copy of volume {source} into {target} does not match: source has {copied}, "
            f"copy has {landed}; {source} is left untouched"
        )
    return copied
