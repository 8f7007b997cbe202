"""A cheap sign that the spec files changed: their names, sizes and modification times.

Looked at every second by the watch; only when it differs are the files read and loaded
again (then through the spec cache, so an edit that changes nothing that matters costs a
digest). The files a spec reads besides itself (``.env``, ``env_file``) count too.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.model import DesiredState
from reconciler.spec.files import SPEC_SUFFIXES

Stamp = tuple[tuple[str, int, int, int], ...]


def spec_stamp(directory: Path, desired: DesiredState) -> Stamp:
    """(path, size, mtime in ns, inode) of every spec file and file the specs read."""
    paths = [directory] if directory.is_file() else sorted(_spec_files(directory))
    paths += [Path(p) for p in desired.files_read]
    return tuple(_stat(p) for p in paths)


def _spec_files(directory: Path) -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(directory):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        found += [
            Path(folder, f) for f in files if f.endswith(SPEC_SUFFIXES) and not f.startswith(".")
        ]
    return found


def _stat(path: Path) -> tuple[str, int, int, int]:
    try:
        info = path.stat()
    except OSError:
        return (str(path), -1, 0, 0)
    return (str(path), info.st_size, info.st_mtime_ns, info.st_ino)
