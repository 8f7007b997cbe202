"""Image configs kept by image ID, so a converged check inspects no image.

An image's ID is the digest of its config, so the config kept for an ID is the config of
that ID on any engine, for ever. An entry is a small JSON file, not a pickle, but it is
still trusted to say which volumes an image declares, and a forged one could hide a
volume and so its data: it lives in the spec cache's folder (spec/cache.py), under the
same rules (the user's own folder, writable by no one else; ``VOLPLAN_NO_CACHE=1`` turns
it off), and every failure to read or write an entry is a miss, never an error.
"""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.model import ImageConfig
from reconciler.spec.cache import cache_dir, trusted_folder, write_atomically

FORMAT = "volplan-image-config-1"
SUBFOLDER = "images"


def load(image_id: str) -> ImageConfig | None:
    """The config kept for ``image_id``, else None."""
    entry = _entry(image_id)
    if entry is None or not _trusted(entry):
        return None
    try:
        data = json.loads(entry.read_text())
        if data["format"] != FORMAT or data["id"] != image_id:
            return None
        return ImageConfig(
            id=image_id,
            volumes=tuple(str(v) for v in data["volumes"]),
            stop_signal=data["stop_signal"] and str(data["stop_signal"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(config: ImageConfig) -> None:
    entry = _entry(config.id)
    if entry is None:
        return
    data = {
        "format": FORMAT,
        "id": config.id,
        "volumes": list(config.volumes),
        "stop_signal": config.stop_signal,
    }
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _trusted(entry):
            write_atomically(entry, json.dumps(data, sort_keys=True).encode())
    except OSError:
        return


def _trusted(entry: Path) -> bool:
    """The cache folder and its image folder are both the user's own."""
    return trusted_folder(entry.parent.parent) and trusted_folder(entry.parent)


def _entry(image_id: str) -> Path | None:
    """The entry's path; None when the cache is off or the ID is not a plain digest."""
    folder = cache_dir()
    digest = image_id.removeprefix("sha256:")
    if folder is None or not digest.isalnum():
        return None
    return folder / SUBFOLDER / f"{digest}.json"
