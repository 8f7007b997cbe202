"""Compose's short port syntax, ``[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]``. Pure.

Ranges (``8000-8002:80-82``) expand to one binding per port, as Compose does; an IPv6
host address is written in brackets (``[::1]:8080:80``).
"""

from __future__ import annotations

import re

from reconciler.container_options import PortBinding

_SHORT = re.compile(
    r"^(?:(?:(?P<ip>\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(?P<host>\d+(?:-\d+)?)?:)?"
    r"(?P<container>\d+(?:-\d+)?)(?:/(?P<protocol>tcp|udp|sctp))?$"
)


def parse_port(entry: str | int) -> tuple[PortBinding, ...]:
    """The bindings ``entry`` stands for; ``ValueError`` when it is not a port."""
    match = _SHORT.match(str(entry))
    if match is None:
        raise ValueError(
            f"{entry!r} is not a port: write [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]"
        )
    containers = _range(match["container"])
    hosts = _range(match["host"]) if match["host"] else None
    if hosts is not None and len(hosts) != len(containers):
        raise ValueError(f"{entry!r}: the host and container port ranges differ in length")
    ip = (match["ip"] or "").strip("[]")
    return tuple(
        PortBinding(port, match["protocol"] or "tcp", ip, str(hosts[i]) if hosts else "")
        for i, port in enumerate(containers)
    )


def check_port(entry: str | int) -> str | int:
    parse_port(entry)
    return entry


def _range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    start, end = int(first), int(last or first)
    if not 0 < start <= end <= 65535:
        raise ValueError(f"port {text!r} is outside 1-65535")
    return list(range(start, end + 1))
