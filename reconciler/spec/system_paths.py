"""The host paths nothing from a spec may reach: the built-in policy's deny list. Pure.

It lives here, below the policy, because the loader needs it before any policy applies:
it refuses to read an ``env_file`` under one of these paths at all. Matching is by whole
path components, each component of a pattern a shell wildcard (``/home/*/.ssh``).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

DEFAULT_DENY = (
    "/etc",
    "/root",
    "/home/*/.ssh",
    "/boot",
    "/proc",
    "/sys",
    "/dev",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd",
    "/run/containerd",
)
"""CIS Docker Benchmark 5.5's system directories, the engine's state and its sockets."""


def is_system_path(path: str) -> bool:
    """``path`` (absolute, normalised) is a denied path or lies under one."""
    parts = [part for part in path.split("/") if part]
    for pattern in DEFAULT_DENY:
        denied = [part for part in pattern.split("/") if part]
        if len(parts) >= len(denied) and all(map(fnmatchcase, parts, denied)):
            return True
    return False
