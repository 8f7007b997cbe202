r"""A cache of validated specs, so that unchanged spec files are not parsed and validated again.

A scheduled drift check, or a plan per merge request on a long-lived runner, loads the
same files again and again, and parsing and validating them (with pydantic and
ruamel.yaml imported for it) is most of a small check's time. ``build_desired_state`` is a
function of the spec files' names, folders and bytes, of the variables they interpolate
and of the files they read besides (the ``.env`` next to them, their ``env_file``\s). Its
result is kept under a key made of the spec files and of the code that computed it
(volplan's own files, the versions of the libraries that parse and validate, the Python
version), with a digest of those inputs as the loader found them: which variables and
files a spec reads is only known once it is loaded, so the entry records them, and a hit
needs an exact key and the same digest of the variables' current values (set or unset)
and the files' current content (present or absent). Nothing but the loader's output is
kept: the policy, the engine and the plan are checked afresh on every run.

An entry is the key, then a pickle (so an entry for other specs is refused before anything
is unpickled), written by volplan and only from specs that validated. Since
unpickling runs code, the cache folder must be the user's own: one owned by another user,
or writable by group or others, is neither read nor written (ssh's rule for ~/.ssh). A
CI cache shared between untrusted merge-request jobs and trusted apply jobs must not hold
it. ``VOLPLAN_NO_CACHE=1`` turns the cache off; ``VOLPLAN_CACHE_DIR`` moves it (default:
``$XDG_CACHE_HOME/volplan``, else ``~/.cache/volplan``). Every failure to read or write an
entry is a miss, never an error: the cache can only make a run faster.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path

from reconciler import __version__
from reconciler.model import DesiredState
from reconciler.spec.files import SpecSource

FORMAT = b"volplan-spec-cache-3"
LIBRARIES = ("pydantic", "pydantic_core", "ruamel.yaml")
"""What parses and validates besides volplan: an upgrade of any of them is a new key."""
MAX_AGE_SECONDS = 30 * 24 * 3600
"""Entries unused for this long are removed when a new one is written."""
_PACKAGE = Path(__file__).resolve().parents[1]


def cache_dir() -> Path | None:
    """Where entries live, or None when the cache is turned off."""
    if os.environ.get("VOLPLAN_NO_CACHE", "") not in {"", "0"}:
        return None
    if configured := os.environ.get("VOLPLAN_CACHE_DIR"):
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "volplan"


def lookup(sources: Sequence[SpecSource]) -> DesiredState | None:
    """The desired state cached for exactly these sources and this code, else None."""
    folder = cache_dir()
    if folder is None or not trusted_folder(folder):
        return None
    entry = folder / _slot(sources)
    try:
        data = entry.read_bytes()
        key = _key(sources)
        if data[: len(key)] != key:  # another version of the specs: not even unpickled
            return None
        inputs, desired = pickle.loads(data[len(key) :])
        if not isinstance(desired, DesiredState) or inputs != inputs_digest(desired):
            return None
        os.utime(entry)
    except Exception:  # a damaged, foreign-version or vanished entry is a miss
        return None
    return desired


def store(sources: Sequence[SpecSource], desired: DesiredState) -> None:
    """Keep ``desired`` for these sources, replacing the entry of their earlier version."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not trusted_folder(folder):
            return
        entry = _key(sources) + pickle.dumps((inputs_digest(desired), desired))
        write_atomically(folder / _slot(sources), entry)
        _remove_stale(folder)
    except (OSError, pickle.PicklingError):
        return


def _slot(sources: Sequence[SpecSource]) -> str:
    """One entry per set of spec files, so a changed spec replaces its old entry."""
    names = hashlib.sha256()
    for source in sources:
        names.update(f"{source.folder}\0{source.display_name}\0".encode())
    return names.hexdigest()[:40] + ".pickle"


def _key(sources: Sequence[SpecSource]) -> bytes:
    digest = hashlib.sha256(FORMAT)
    digest.update(f"{__version__}\0{sys.version}\0{code_fingerprint()}\0".encode())
    for source in sources:
        digest.update(f"{source.folder}\0{source.display_name}\0{len(source.raw)}\0".encode())
        digest.update(source.raw)
    return digest.digest()


def inputs_digest(desired: DesiredState) -> bytes:
    """The current values of what ``desired`` was interpolated from and read besides its
    specs: each variable's value in the environment (or its absence) and each file's bytes
    (or its absence). Values are hashed, never stored."""
    digest = hashlib.sha256()
    for name in sorted({use.name for use in desired.variables}):
        value = os.environ.get(name)
        digest.update(f"{name}\0{'-' if value is None else '=' + value}\0".encode())
    for path in desired.files_read:
        try:
            content = b"=" + Path(path).read_bytes()
        except FileNotFoundError:
            content = b"-"
        except OSError:
            content = b"!"
        digest.update(f"{path}\0{len(content)}\0".encode() + content)
    return digest.digest()


@functools.cache
def code_fingerprint() -> str:
    """Size and modification time of volplan's modules and of each library's entry file:
    editing volplan or upgrading a library changes it, with no file read. Taken once per
    process: a miss needs it for the lookup and again for the store."""
    parts = []
    for directory, subdirectories, files in os.walk(_PACKAGE):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            parts.append(_stamp(os.path.join(directory, name)))
    for library in LIBRARIES:
        found = find_spec(library)
        parts.append(_stamp(found.origin) if found and found.origin else f"{library}:absent")
    return ";".join(parts)


def _stamp(path: str) -> str:
    status = os.stat(path)
    return f"{path}:{status.st_size}:{status.st_mtime_ns}"


def trusted_folder(folder: Path) -> bool:
    """Owned by this user and writable by no one else, as pickles must be."""
    try:
        status = folder.stat()
    except OSError:
        return False
    shared = status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.geteuid() and not shared


def write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=".entry-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_stale(folder: Path) -> None:
    oldest = time.time() - MAX_AGE_SECONDS
    for entry in folder.glob("*.pickle"):
        if entry.stat().st_mtime < oldest:
            entry.unlink(missing_ok=True)
