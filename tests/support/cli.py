"""Run the volplan CLI (`python -m reconciler`) in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# DOCKER_HOST for runs that must reach no engine: nothing listens there.
NO_ENGINE_HOST = "unix:///nonexistent/volplan-tests-no-engine.sock"


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


class RunCli(Protocol):
    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> CliResult: ...


def engine_environment(docker_host: str) -> dict[str, str]:
    """This process's environment with ``docker_host`` as the only engine setting."""
    run_env = {name: value for name, value in os.environ.items() if not name.startswith("DOCKER_")}
    return run_env | {"DOCKER_HOST": docker_host}


def cli_runner(docker_host: str) -> RunCli:
    """A RunCli whose runs see only `docker_host`: the caller's DOCKER_* variables are dropped."""

    def run_cli(
        *args: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> CliResult:
        run_env = engine_environment(docker_host) | {"NO_COLOR": "1", "CI": "true"}
        run_env |= env or {}
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            input=input,
            capture_output=True,
            text=True,
            env=run_env,
            cwd=cwd,
            timeout=120,
            check=False,
        )
        return CliResult(result.returncode, result.stdout, result.stderr)

    return run_cli
