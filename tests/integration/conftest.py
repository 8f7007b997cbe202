"""Helpers for integration tests: copies of the examples to edit, and engine look-ups."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from support.engine import Engine
from support.images import build_all

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy an example folder (or specs/) to a temporary place where a test may edit it."""

    def copy(name: str) -> Path:
        source = REPO / name if name == "specs" else EXAMPLES / name
        target = tmp_path / name
        shutil.copytree(source, target)
        return target

    return copy


def edit(folder: Path, old: str, new: str) -> None:
    """Replace one exact piece of text in the folder's single spec file."""
    (spec,) = folder.glob("*.yaml")
    text = spec.read_text()
    assert old in text, f"{old!r} not in {spec}"
    spec.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="session")
def test_images(engine: Engine) -> None:
    """The images configured like real ones (examples/images), built once per engine."""
    build_all(engine)
