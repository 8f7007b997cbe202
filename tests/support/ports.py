"""A free TCP port on 127.0.0.1, for a server a test starts (a TLS dockerd, an sshd)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now; the server binds it moments later."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
