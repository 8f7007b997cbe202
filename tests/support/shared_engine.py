"""A second private engine with labels, shared by the pytest workers of one run.

The fleet and label-routing tests need one engine besides each worker's own: started once
per run whichever worker asks first, kept while any worker uses it, stopped by the last.
A lock file serialises the start, the count of users and the stop; the directory is keyed
by xdist's run ID, so two runs on one machine never share it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from support.engine import Engine, start_engine, stop_engine

MARKER = ".volplan-engine"  # engine.sh's: a DIR it may start in and remove


@contextmanager
def shared_engine(name: str, labels: Sequence[str]) -> Iterator[Engine]:
    """The engine ``name``, its dockerd started with ``--label`` for each of ``labels``."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid{os.getpid()}")[:12]
    directory = Path(f"/tmp/volplan-{name}-{run}")
    with _users(directory) as users:
        if users == 0:
            directory.mkdir(exist_ok=True)
            (directory / MARKER).touch()
            (directory / "daemon.json").write_text(json.dumps({"labels": list(labels)}))
        engine = start_engine(directory)
        _count(directory, users + 1)
    try:
        yield engine
    finally:
        engine.client.close()
        with _users(directory) as users:
            _count(directory, users - 1)
            if users <= 1:
                stop_engine(directory)
                Path(f"{directory}.users").unlink()
                Path(f"{directory}.lock").unlink()


@contextmanager
def _users(directory: Path) -> Iterator[int]:
    """Under the run's lock: how many workers use the engine now."""
    with open(f"{directory}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            count = Path(f"{directory}.users")
            yield int(count.read_text()) if count.exists() else 0
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _count(directory: Path, users: int) -> None:
    Path(f"{directory}.users").write_text(str(users))


def remove_projects(engine: Engine, *projects: str) -> None:
    """Remove what volplan made for ``projects`` (a shared engine is never reset whole)."""
    for project in projects:
        selector = {"label": [f"io.volplan.project={project}"]}
        for container in engine.client.containers(all=True, filters=selector):
            engine.client.remove_container(container["Id"], force=True)
        for volume in engine.client.volumes(filters=selector)["Volumes"] or []:
            engine.client.remove_volume(volume["Name"], force=True)
