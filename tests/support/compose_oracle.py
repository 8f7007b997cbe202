"""docker-compose 1.29.2 from PyPI, in a venv of its own: the independent oracle of the import.

The venv is cached outside the repository (``/var/cache/volplan-tests/``, keyed by the
version and this Python's), built when missing and shared by the pytest workers under a
lock. PyYAML 5.4.1, which docker-compose 1.29.2 pins, does not build with Cython 3 on
Python 3.11: it is built first, without build isolation, against ``cython<3``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

VERSION = "1.29.2"
CACHE = Path(os.environ.get("VOLPLAN_TEST_CACHE", "/var/cache/volplan-tests"))
VENV = CACHE / f"docker-compose-{VERSION}-py{sys.version_info.major}.{sys.version_info.minor}"
BINARY = VENV / "bin" / "docker-compose"
COMPLETE = VENV / ".complete"
_STEPS = (
    ["install", "-q", "cython<3", "wheel"],
    ["install", "-q", "--no-build-isolation", "pyyaml==5.4.1"],
    ["install", "-q", f"docker-compose=={VERSION}"],
)


def docker_compose() -> Path:
    """The oracle's executable, built first if missing; fails in CI if it cannot be built,
    skips elsewhere (say, without PyPI)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{VENV.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not COMPLETE.exists():
            _build()
    return BINARY


def _build() -> None:
    """The venv from scratch; ``COMPLETE`` marks it whole (a build cut short is redone)."""
    shutil.rmtree(VENV, ignore_errors=True)
    commands = [[sys.executable, "-m", "venv", str(VENV)]]
    commands += [[str(VENV / "bin" / "pip"), *step] for step in _STEPS]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
        if result.returncode != 0:
            message = f"cannot build the docker-compose {VERSION} oracle: {' '.join(command)}\n"
            message += result.stderr[-2000:]
            if os.environ.get("CI") == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message + "\n(a skip outside CI only)")
    COMPLETE.touch()


def run(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``docker-compose ARGS`` in ``cwd`` with exactly ``env`` (plus PATH)."""
    result = subprocess.run(
        [str(docker_compose()), *args],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker-compose {' '.join(args)} failed:\n{result.stderr}")
    return result


def config(files: Sequence[Path], *, project: str, cwd: Path, env: Mapping[str, str]) -> Any:
    """What ``docker-compose -p PROJECT -f A -f B config`` computes, as plain data."""
    args = ["-p", project]
    for file in files:
        args += ["-f", str(file)]
    output = run([*args, "config"], cwd=cwd, env=env).stdout
    return YAML(typ="safe", pure=True).load(output)
