"""``ssh://user@host:port`` against a real sshd on 127.0.0.1, in front of the private engine.

volplan reaches it through docker-py's paramiko transport, which checks the server's key
against ``~/.ssh/known_hosts`` with paramiko's ``RejectPolicy``: a known key connects, an
unknown or a changed one is refused with one clear error and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.docker_cli import DockerCli
from support.engine import Engine
from support.sshd import Sshd, new_key, running_sshd

pytestmark = pytest.mark.engine

SPEC = """\
version: 1
project: ssh
volumes:
  data: {}
"""


@pytest.fixture(scope="module")
def sshd(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with running_sshd(tmp_path_factory.mktemp("sshd"), engine.host) as server:
        yield server


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    path = tmp_path / "specs.yaml"
    path.write_text(SPEC)
    return path


def test_a_known_host_key_connects_by_host_and_by_context(
    sshd: Sshd, clean_engine: Engine, specs: Path, tmp_path: Path
) -> None:
    sshd.known_hosts(sshd.host_key)
    cli = DockerCli(tmp_path / "config")
    cli.ok("context", "create", "over-ssh", "--docker", f"host={sshd.url}")
    home = {"HOME": str(sshd.home)}  # the client's key and known_hosts

    applied = cli.volplan("apply", "--yes", "-H", sshd.url, str(specs), env=home)
    planned = cli.volplan("plan", "--context", "over-ssh", str(specs), env=home)

    assert applied.startswith(f"Plan for {sshd.url} "), applied
    assert clean_engine.volume_names() == {"data"}
    assert "No changes. The engine matches the specs (1 resource)." in planned, planned


@pytest.mark.parametrize("known", ["unknown", "changed"])
def test_an_unknown_or_changed_host_key_is_refused(
    sshd: Sshd, clean_engine: Engine, specs: Path, tmp_path: Path, known: str
) -> None:
    if known == "changed":
        sshd.known_hosts(new_key(tmp_path / "impostor"))
        reason = "ssh: Host key for server '127.0.0.1' does not match: got "
    else:
        sshd.known_hosts()
        reason = f"ssh: Server '[127.0.0.1]:{sshd.port}' not found in known_hosts"

    cli = DockerCli(tmp_path / "config")
    refused = cli.volplan(
        "apply", "--yes", "-H", sshd.url, str(specs), env={"HOME": str(sshd.home)}
    )

    assert refused.startswith(
        f"exit 1: error: connecting to the Docker engine at {sshd.url}: {reason}"
    ), refused
    assert refused.rstrip().endswith(
        "(host keys are checked against ~/.ssh/known_hosts: add "
        "the server's key there once you have checked its "
        "fingerprint, e.g. by logging in with ssh)"
    ), refused
    assert refused.count("\n") == 1, refused
    assert clean_engine.volume_names() == set()
