"""The targets file, from the spec cache's folder when its bytes are unchanged.

Reading a targets file needs ruamel.yaml and pydantic, whose import is most of a small
fleet plan's start-up (a warm single-engine plan imports neither: spec/cache.py). So the
targets read from a file are kept as the spec cache keeps specs: a pickle in the same
user-only folder, keyed by the file's path and bytes and by volplan's code, and, like
it, every failure to read or write an entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from reconciler import __version__
from reconciler.spec import cache
from reconciler.spec.targets import Target

FORMAT = b"volplan-targets-cache-1"


def read_targets_cached(path: Path, chosen: tuple[str, ...] = ()) -> tuple[Target, ...]:
    """``targets_file.read_targets``, from the cache when it can."""
    try:
        raw = path.read_bytes()
    except OSError:
        raw = b""  # not readable: the reader says why, with its position
    key = _key(path, raw)
    folder = cache.cache_dir()
    entry = folder / f"targets-{key.hex()[:40]}.pickle" if folder is not None else None
    found = _lookup(entry, key)
    names = {target.name for target in found or ()}
    if found is not None and names.issuperset(chosen):
        return tuple(target for target in found if not chosen or target.name in chosen)
    from reconciler.spec.targets_file import read_targets

    targets = read_targets(path)  # a problem in the file raises here, with its position
    _store(entry, key, targets)
    return read_targets(path, chosen) if chosen else targets  # and a --target it lacks


def _key(path: Path, raw: bytes) -> bytes:
    digest = hashlib.sha256(FORMAT)
    digest.update(f"{__version__}\0{cache.code_fingerprint()}\0{path.resolve()}\0".encode())
    digest.update(raw)
    return digest.digest()


def _lookup(entry: Path | None, key: bytes) -> tuple[Target, ...] | None:
    if entry is None or not cache.trusted_folder(entry.parent):
        return None
    try:
        stored, targets = pickle.loads(entry.read_bytes())
    except Exception:  # a damaged, foreign-version or vanished entry is a miss
        return None
    if stored != key or not all(isinstance(t, Target) for t in targets):
        return None
    return tuple(targets)


def _store(entry: Path | None, key: bytes, targets: tuple[Target, ...]) -> None:
    if entry is None:
        return
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if cache.trusted_folder(entry.parent):
            cache.write_atomically(entry, pickle.dumps((key, targets)))
    except (OSError, pickle.PicklingError):
        return
