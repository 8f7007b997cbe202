"""A private, throwaway Docker engine for integration tests, run by scripts/engine.sh."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.types import Mount

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
ENGINE_SH = SCRIPTS / "engine.sh"
ENGINE_KIND = os.environ.get("VOLPLAN_TEST_ENGINE", "docker")
"""``docker`` (engine.sh's dockerd), or ``podman`` (podman.sh's service): the engine the
session's fixtures start; scripts/test runs the ``portable`` tests against Podman too."""
IMAGE = "busybox:latest"
UNAVAILABLE = 3  # engine.sh's exit code when no engine can run on this machine


class EngineUnavailableError(Exception):
    """No private engine can run here: not root, no dockerd, dockerd would not start."""


@dataclass(frozen=True)
class Engine:
    host: str  # unix://.../docker.sock, for DOCKER_HOST
    client: docker.APIClient
    kind: str = "docker"  # or "podman"

    def exec_sh(self, container: str, script: str) -> tuple[int, str]:
        """Run `sh -c script` in a running container; return its exit code and output."""
        exec_id = self.client.exec_create(container, ["sh", "-c", script])["Id"]
        output: bytes = self.client.exec_start(exec_id)
        exit_code: int = self.client.exec_inspect(exec_id)["ExitCode"]
        return exit_code, output.decode()

    def run_with_volumes(
        self,
        script: str,
        *,
        volumes_from: Sequence[str] = (),
        mounts: Sequence[Mount] = (),
        binds: Sequence[str] = (),
    ) -> tuple[int, str]:
        """Run `sh -c script` in a throwaway container; return its exit code and output.

        The container is removed afterwards, its volumes never.
        """
        host_config = self.client.create_host_config(
            network_mode="none",
            volumes_from=list(volumes_from) or None,
            mounts=list(mounts) or None,
            binds=list(binds) or None,
        )
        container = self.client.create_container(
            IMAGE, ["sh", "-c", script], host_config=host_config
        )["Id"]
        try:
            self.client.start(container)
            exit_code: int = self.client.wait(container, timeout=120)["StatusCode"]
            output: bytes = self.client.logs(container)
        finally:
            self.client.remove_container(container, v=False, force=True)
        return exit_code, output.decode()

    def inspect_container(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.inspect_container(name)
        return result

    def image_id(self, reference: str) -> str:
        image: dict[str, Any] = self.client.inspect_image(reference)  # type: ignore[no-untyped-call]
        return str(image["Id"])

    def inspect_volume(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.inspect_volume(name)
        return result

    def volume_names(self) -> set[str]:
        return {volume["Name"] for volume in self.client.volumes()["Volumes"] or []}

    def container_names(self) -> set[str]:
        return {
            name.lstrip("/")
            for container in self.client.containers(all=True)
            for name in container["Names"]
        }

    def reset(self) -> None:
        """Remove every container and volume, so that a test starts from an empty engine."""
        for container in self.client.containers(all=True):
            self._remove_forcibly(container["Id"])
        for name in self.volume_names():
            self.client.remove_volume(name, force=True)

    def _remove_forcibly(self, container_id: str) -> None:
        """``docker rm -f``, again while the engine is still busy stopping it: Podman (4.3)
        answers a force-remove of a container that is stopping right then with a 500
        (``could not be stopped: ... container state improper``)."""
        for attempt in range(STOPPING_RETRIES):
            try:
                self.client.remove_container(container_id, force=True)
                return
            except docker.errors.APIError as error:
                if error.status_code != 500 or attempt == STOPPING_RETRIES - 1:
                    raise
                time.sleep(0.2)


STOPPING_RETRIES = 10


def _engine_sh(
    command: str, directory: Path, env: Mapping[str, str] | None = None, kind: str = "docker"
) -> subprocess.CompletedProcess[str]:
    script = ENGINE_SH if kind == "docker" else SCRIPTS / "podman.sh"
    return subprocess.run(
        [str(script), command, str(directory)],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,  # may apt-get install docker.io first
    )


def start_engine(
    directory: Path, env: Mapping[str, str] | None = None, kind: str = "docker"
) -> Engine:
    """Start (or find running) the private engine of ``kind`` kept in `directory`; ``env``
    adds to engine.sh's environment (``VOLPLAN_ENGINE_TCP``)."""
    result = _engine_sh("start", directory, env, kind)
    if result.returncode == UNAVAILABLE:
        raise EngineUnavailableError(result.stderr.strip())
    if result.returncode != 0:
        raise RuntimeError(f"{kind} engine start failed ({result.returncode}):\n{result.stderr}")
    host = result.stdout.splitlines()[-1]
    return Engine(host=host, client=docker.APIClient(base_url=host, version="auto"), kind=kind)


def stop_engine(directory: Path, kind: str = "docker") -> None:
    """Stop the private engine kept in `directory` and remove the directory."""
    result = _engine_sh("stop", directory, kind=kind)
    if result.returncode != 0:
        raise RuntimeError(f"{kind} engine stop failed ({result.returncode}):\n{result.stderr}")


def relabel(engine: Engine, labels: Sequence[str]) -> None:
    """Give engine.sh's dockerd behind ``engine`` these ``--label``s (``k=v``) as an operator
    would: in its daemon.json, then SIGHUP, which dockerd answers by reloading its labels;
    returns once ``/info`` reports them."""
    directory = Path(engine.host.removeprefix("unix://")).parent
    config = directory / "daemon.json"
    settings = json.loads(config.read_text()) | {"labels": list(labels)}
    config.write_text(json.dumps(settings))
    os.kill(int((directory / "dockerd.pid").read_text()), signal.SIGHUP)
    for _ in range(100):
        if sorted(engine.client.info()["Labels"] or []) == sorted(labels):
            return
        time.sleep(0.05)
    raise AssertionError(f"dockerd in {directory} did not reload its labels {list(labels)}")
