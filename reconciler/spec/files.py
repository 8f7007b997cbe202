"""Finding and reading spec files: the loader's only I/O.

The input is a folder, read recursively, or a single spec file. Hidden folders and files
(``.git/``, ``.github/`` workflows, editor state) are never specs and are skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import Position, Problem, SpecError, SpecPathError

SPEC_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 8 * 1024 * 1024
POLICY_FILE_NAME = "volplan.policy.yaml"


@dataclass(frozen=True)
class SpecSource:
    """One spec file's bytes, its name as shown to the user, and its folder for ``./`` binds."""

    display_name: str
    folder: str
    raw: bytes


def read_spec_dir(directory: Path) -> list[SpecSource]:
    """The file ``directory`` names, or every ``*.yaml``/``*.yml`` below it, recursively,
    in sorted order, outside hidden folders."""
    if directory.is_file():
        return [read_source(directory)]
    if not directory.is_dir():
        what = "is neither a file nor a folder" if directory.exists() else "does not exist"
        raise SpecPathError(f"{directory}: {what}; give a spec folder or a spec file")
    paths = sorted(
        p
        for p in directory.rglob("*")
        if p.suffix in SPEC_SUFFIXES
        and p.is_file()
        and p.name != POLICY_FILE_NAME
        and not _hidden(p.relative_to(directory))
    )
    if not paths:
        raise SpecPathError(
            f"{directory}: no *.yaml or *.yml spec files found (hidden folders are skipped)"
        )
    return [read_source(p) for p in paths]


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def read_source(path: Path) -> SpecSource:
    """One file's bytes, refused before reading when it is over the size limit."""
    name = _display_name(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _problem(
                name,
                f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit",
                "file-too-large",
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _problem(name, f"cannot read the file: {exc.strerror}", "unreadable-file") from None
    return SpecSource(name, str(path.resolve().parent), raw)


def _display_name(path: Path) -> str:
    relative = os.path.relpath(path)
    return str(path.resolve()) if relative.startswith("..") else relative


def _problem(file: str, message: str, rule: str) -> SpecError:
    return SpecError([Problem(Position(file, 1, 1), "", message, rule)])
