"""The docker CLI (28, /usr/local/bin/docker) as the oracle for contexts, in a docker config
folder of the test's own: what it resolves, and what it connects to."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.cli import CliResult

DOCKER_CLI = "/usr/local/bin/docker"


def require_docker_cli() -> str:
    """The CLI's path; outside CI a machine without it skips, in CI it fails."""
    if Path(DOCKER_CLI).is_file() or shutil.which("docker"):
        return DOCKER_CLI if Path(DOCKER_CLI).is_file() else str(shutil.which("docker"))
    message = "the docker CLI, the oracle for contexts, is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(f"{message} (a skip outside CI only)")


@dataclass(frozen=True)
class DockerCli:
    """The CLI run with ``DOCKER_CONFIG=config`` and no DOCKER_* of the caller's."""

    config: Path

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        return env | {"DOCKER_CONFIG": str(self.config)} | dict(extra or {})

    def run(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [require_docker_cli(), *args],
            env=self.environment(env),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def ok(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        result = self.run(*args, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def volplan(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Run volplan in this environment; its stdout, or ``exit N: `` and its stderr when
        it fails."""
        result = self.run_volplan(*args, env=env)
        if result.exit_code == 0:
            return result.stdout
        return f"exit {result.exit_code}: {result.stderr}"

    def run_volplan(
        self, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> CliResult:
        """Run volplan in this environment, with no ssh agent either."""
        run_env = self.environment({"NO_COLOR": "1", **(env or {})})
        run_env.pop("SSH_AUTH_SOCK", None)
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            env=run_env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        return CliResult(result.returncode, result.stdout, result.stderr)

    def inspect(self, *flags: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """``docker [flags] context inspect``: the context the CLI would use."""
        found: list[dict[str, Any]] = json.loads(self.ok(*flags, "context", "inspect", env=env))
        return found[0]
