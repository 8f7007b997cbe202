"""The repository's example spec folders, and editing a copy of one."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def edit(folder: Path, old: str, new: str) -> None:
    """Replace one exact piece of text in the folder's single spec file."""
    (spec,) = folder.glob("*.yaml")
    text = spec.read_text()
    assert old in text, f"{old!r} not in {spec}"
    spec.write_text(text.replace(old, new, 1))
