"""Folders the tests make once and keep in a cache: venvs of outside tools (pre-commit,
build), a wheelhouse of volplan's dependencies, and node packages (mermaid's parser).

A folder is filled under a lock and marked ``ready`` last, so two pytest workers never
use a half-made one (one left by a killed run is made again). A fresh machine fills it
on first use, from PyPI like the project's own test dependencies; where that fails, the
test fails in CI and is skipped elsewhere.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("VOLPLAN_TEST_CACHE", "/var/cache/volplan-tests"))


def cached(name: str, key: Sequence[str], fill: Callable[[Path], None]) -> Path:
    """``CACHE/NAME-DIGEST`` (of ``key``), made by ``fill`` if it is not there yet."""
    digest = hashlib.sha256("\n".join([sys.version, *key]).encode()).hexdigest()[:12]
    home = CACHE / f"{name}-{digest}"
    if (home / "ready").exists():
        return home
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / "ready").exists():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            fill(home)
            (home / "ready").touch()
    return home


def run_or_give_up(command: Sequence[str | Path], what: str) -> None:
    """Run a command that fetches from PyPI; if it cannot, fail in CI, else skip."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = f"could not {what}: {done.stderr.strip()[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(f"{message} (skipped outside CI only)")


def cached_venv(name: str, requirements: Sequence[str]) -> Path:
    """A venv with ``requirements`` installed."""

    def fill(home: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", home], check=True)
        pip: list[str | Path] = [
            home / "bin" / "pip",
            "install",
            "-qq",
            "--disable-pip-version-check",
        ]
        run_or_give_up([*pip, *requirements], f"install {' '.join(requirements)}")

    return cached(name, requirements, fill)


def cached_wheelhouse(requirements: Sequence[str]) -> Path:
    """A folder of wheels (or sdists, where a package has no wheel) for ``requirements``
    and what they depend on, for ``pip install --no-index --find-links``."""

    def fill(home: Path) -> None:
        pip = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check"]
        run_or_give_up([*pip, "-d", home, *requirements], "download volplan's dependencies")

    return cached("wheelhouse", requirements, fill)


def cached_node_packages(packages: Sequence[str]) -> Path:
    """A folder whose ``node_modules`` holds ``packages`` (``name@version``), from npm."""

    def fill(home: Path) -> None:
        npm: list[str | Path] = [
            "npm",
            "install",
            "--prefix",
            home,
            "--no-audit",
            "--no-fund",
            "--silent",
        ]
        run_or_give_up([*npm, *packages], f"npm install {' '.join(packages)}")

    return cached("node", packages, fill)
