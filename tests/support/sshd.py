"""A private sshd (Debian's openssh-server) on 127.0.0.1, for ``ssh://`` endpoints.

Its own config, host key and authorized key, all made in the test; key-only login as
root; it listens on loopback only and is stopped by its pid. A session's environment has
``DOCKER_HOST`` set (``SetEnv``) to the engine behind it, so the docker CLI there answers
``docker system dial-stdio`` (what docker-py runs over the connection) against it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.ports import free_port

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    """The server at ``127.0.0.1:port``, its host public key line, and a HOME whose
    ``.ssh/id_ed25519`` may log in (``.ssh/known_hosts`` is the test's to write)."""

    port: int
    host_key: str
    home: Path

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def known_hosts(self, *key_lines: str) -> None:
        """Write the client's known_hosts with these keys for the server's address."""
        ssh = self.home / ".ssh"
        lines = [f"[127.0.0.1]:{self.port} {key}\n" for key in key_lines]
        (ssh / "known_hosts").write_text("".join(lines))


def require_sshd() -> None:
    if Path(SSHD).is_file():
        return
    message = "sshd is missing: scripts/test installs Debian's openssh-server"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(f"{message} (a skip outside CI only)")


def new_key(path: Path) -> str:
    """An ed25519 key pair at ``path``; its public line ``ssh-ed25519 AAAA...``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


@contextmanager
def running_sshd(folder: Path, docker_host: str) -> Iterator[Sshd]:
    """sshd in ``folder`` letting the client key in, its sessions' DOCKER_HOST set."""
    require_sshd()
    home = folder / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    client = new_key(home / ".ssh" / "id_ed25519")
    host_key = new_key(folder / "host_ed25519")
    (folder / "authorized_keys").write_text(client + "\n")
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1:{port}\n"
        f"HostKey {folder / 'host_ed25519'}\n"
        f"PidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
        "AuthenticationMethods publickey\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        "AllowUsers root\nUsePAM no\nStrictModes no\nX11Forwarding no\n"
        "AllowTcpForwarding no\nAllowAgentForwarding no\n"
        f"SetEnv DOCKER_HOST={docker_host} DOCKER_CONFIG={folder / 'remote-docker'}\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    log = (folder / "sshd.log").open("w")
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        _await_port(port, process, folder / "sshd.log")
        yield Sshd(port, host_key, home)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def _await_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited {process.returncode}: {log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on 127.0.0.1:{port}: {log.read_text()}")
