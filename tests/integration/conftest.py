"""Helpers for integration tests: copies of the examples to edit, and engine look-ups."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.engine import Engine
from support.examples import EXAMPLES, REPO
from support.images import build_all
from support.shared_engine import shared_engine


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy an example folder (or specs/) to a temporary place where a test may edit it."""

    def copy(name: str) -> Path:
        source = REPO / name if name == "specs" else EXAMPLES / name
        target = tmp_path / name
        shutil.copytree(source, target)
        return target

    return copy


@pytest.fixture(scope="session")
def test_images(engine: Engine) -> None:
    """The images configured like real ones (examples/images), built once per engine."""
    build_all(engine)


@pytest.fixture(scope="session")
def edge_engine(engine: Engine) -> Iterator[Engine]:
    """A second private engine, started with ``dockerd --label role=edge --label zone=a``
    and shared by the workers: tests on it use projects and names of their own."""
    with shared_engine("edge", ["role=edge", "zone=a"]) as edge:
        yield edge
