"""Shared fixtures: a private Docker engine per pytest worker, and runners for the CLI."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import NO_ENGINE_HOST, RunCli, cli_runner
from support.engine import (
    ENGINE_KIND,
    Engine,
    EngineUnavailableError,
    start_engine,
    stop_engine,
)
from support.portable import not_portable_reason, portable

pytest_plugins = ("support.fuzz_counts",)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite the expected files of tests/cases/ instead of comparing them",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that use the engine `engine`, so that -m 'not engine' leaves them out,
    and those that must hold on Podman too `portable` (support/portable.py); against
    Podman, an engine test that is not portable is skipped with the reason."""
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)
        if portable(item.path.name, item.name):
            item.add_marker(pytest.mark.portable)
        elif ENGINE_KIND == "podman" and item.get_closest_marker("engine"):
            reason = not_portable_reason(item.path.name, item.name)
            item.add_marker(pytest.mark.skip(reason=f"not run on Podman: {reason}"))


@pytest.fixture(scope="session", autouse=True)
def spec_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache of validated specs (spec/cache.py) for this session only, not the user's."""
    folder = tmp_path_factory.mktemp("spec-cache")
    folder.chmod(0o700)
    previous = os.environ.get("VOLPLAN_CACHE_DIR")
    os.environ["VOLPLAN_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        del os.environ["VOLPLAN_CACHE_DIR"]
    else:
        os.environ["VOLPLAN_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """This worker's private engine, started once; skipped where none can run, but not in CI."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    kind = "engine" if ENGINE_KIND == "docker" else ENGINE_KIND
    directory = Path(tempfile.mkdtemp(prefix=f"volplan-{kind}-{worker}-", dir="/tmp"))
    try:
        started = start_engine(directory, kind=ENGINE_KIND)
    except BaseException as error:
        stop_engine(directory, ENGINE_KIND)
        if not isinstance(error, EngineUnavailableError):
            raise
        if os.environ.get("CI") == "true":
            raise pytest.fail.Exception(
                f"CI needs the private Docker engine: {error}", pytrace=False
            ) from None
        raise pytest.skip.Exception(f"no private Docker engine: {error}") from None
    try:
        yield started
    finally:
        started.client.close()
        stop_engine(directory, ENGINE_KIND)


@pytest.fixture
def clean_engine(engine: Engine) -> Engine:
    """The engine, emptied of containers and volumes."""
    engine.reset()
    return engine


@pytest.fixture
def run_cli(engine: Engine) -> RunCli:
    """Run volplan against this worker's private engine."""
    return cli_runner(engine.host)


@pytest.fixture
def run_cli_offline() -> RunCli:
    """Run volplan where no engine answers, for commands such as validate."""
    return cli_runner(NO_ENGINE_HOST)
