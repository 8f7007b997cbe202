"""Writing a report or plan file where the user asked: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reconciler.errors import OutputError


def write_output(path: Path, text: str, *, private: bool = False) -> None:
    """Write ``text`` to ``path`` atomically (a reader never sees half a file).

    ``private`` files are readable by their owner only: a plan carries the specs, which
    may hold environment values.
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o600 if private else 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
