"""docker-compose 1.29.2 from PyPI, in a venv of its own: the independent oracle of the import.

The venv is cached outside the repository (``support.tool_cache``: under
``/var/cache/volplan-tests/``, keyed by what is installed and this Python), built when
missing and shared by the pytest workers. PyYAML 5.4.1, which docker-compose 1.29.2
pins, does not build with Cython 3 on Python 3.11: it is built first, without build
isolation, against ``cython<3``; docker-py and requests are held at the last releases
docker-compose 1.29.2 works with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from support.tool_cache import cached, run_or_give_up

VERSION = "1.29.2"
_STEPS = (
    ("cython<3", "wheel"),
    ("--no-build-isolation", "pyyaml==5.4.1"),
    # docker 7 dropped the ssl_version argument docker-compose 1.29.2 passes, and
    # requests 2.32 the http+docker scheme docker 6 relies on
    (f"docker-compose=={VERSION}", "docker==6.1.3", "requests<2.32"),
)


def docker_compose() -> Path:
    """The oracle's executable, its venv built first if missing (fails in CI if it cannot
    be, skips elsewhere)."""

    def fill(home: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", home], check=True)
        for step in _STEPS:
            pip: list[str | Path] = [home / "bin" / "pip", "install", "-qq"]
            pip.append("--disable-pip-version-check")
            run_or_give_up([*pip, *step], f"install {' '.join(step)}")

    key = [" ".join(step) for step in _STEPS]
    return cached(f"docker-compose-{VERSION}", key, fill) / "bin" / "docker-compose"


_BATCH = """
import contextlib, io, json, os, sys
from compose.cli.main import main
results = []
for job in json.load(sys.stdin):
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    sys.argv = ["docker-compose", *job["args"]]
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exit:
            code = exit.code or 0
    results.append({"code": code, "out": out.getvalue(), "err": err.getvalue()})
json.dump(results, sys.__stdout__)
"""


@dataclass(frozen=True)
class Job:
    """One ``docker-compose -p PROJECT -f A -f B config``, in ``cwd`` with exactly ``env``."""

    files: Sequence[Path]
    project: str
    cwd: Path
    env: Mapping[str, str]

    def args(self) -> list[str]:
        args = ["-p", self.project]
        for file in self.files:
            args += ["-f", str(file)]
        return [*args, "config"]


def configs(jobs: Sequence[Job]) -> list[Any]:
    """What docker-compose computes for each job, as plain data. The jobs run in one
    docker-compose process, through its own command-line entry point: starting it is
    most of a run's time (seconds on a loaded machine)."""
    python = docker_compose().with_name("python")
    request = [{"cwd": str(j.cwd), "env": dict(j.env), "args": j.args()} for j in jobs]
    done = subprocess.run(
        [str(python), "-c", _BATCH],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    yaml = YAML(typ="safe", pure=True)
    results = []
    for job, result in zip(jobs, json.loads(done.stdout), strict=True):
        assert result["code"] == 0, f"docker-compose {' '.join(job.args())}: {result['err']}"
        results.append(yaml.load(result["out"]))
    return results


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
