"""Finding and reading spec files: the loader's only I/O."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import Position, Problem, SpecError

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
    """Every ``*.yaml``/``*.yml`` below ``directory``, recursively, in sorted order."""
    if not directory.is_dir():
        raise _problem(
            str(directory), f"spec directory {str(directory)!r} does not exist", "no-specs"
        )
    paths = sorted(
        p
        for p in directory.rglob("*")
        if p.suffix in SPEC_SUFFIXES and p.is_file() and p.name != POLICY_FILE_NAME
    )
    if not paths:
        raise _problem(str(directory), "no *.yaml or *.yml spec files found", "no-specs")
    return [read_source(p) for p in paths]


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
