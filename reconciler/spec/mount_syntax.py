"""The short mount syntax of ``docker run -v``: ``[SOURCE:]TARGET[:FLAGS]``. Pure.

A source that is an absolute path is a bind mount, ``./`` or ``../`` a bind relative to
the spec file, and a name a named volume; no source means an anonymous volume.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$"
NAME_RE = re.compile(NAME_PATTERN)
PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
ACCESS_FLAGS = ("ro", "rw")
SELINUX_FLAGS = ("z", "Z")
"""SELinux relabelling; the engine accepts them (and does nothing) where SELinux is off."""


def is_host_path(source: str) -> bool:
    return source.startswith("/") or is_relative_path(source)


def is_relative_path(source: str) -> bool:
    return source in {".", ".."} or source.startswith(("./", "../"))


def normalise_host_path(path: str) -> str:
    """The path as the engine mounts it: ``.``, ``..``, repeated and trailing slashes gone.

    ``posixpath.normpath`` keeps a leading ``//`` (POSIX leaves its meaning open); Linux,
    and so Docker, read it as ``/``, and so must the loader and the policy.
    """
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("/") else cleaned


def short_mount_to_fields(text: str) -> dict[str, Any]:
    """Split a short mount string into the long form's fields, or raise ValueError."""
    parts = text.split(":")
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"{text!r} is not of the form [SOURCE:]TARGET[:FLAGS]")
    if len(parts) == 1:
        source, target, flags = "", parts[0], ""
    elif len(parts) == 2 and _are_flags(parts[1]):
        source, target, flags = "", parts[0], parts[1]
    elif len(parts) == 2:
        source, target, flags = parts[0], parts[1], ""
    else:
        source, target, flags = parts
    fields: dict[str, Any] = {"target": target}
    if source:
        fields["source"] = source
        fields["type"] = "bind" if is_host_path(source) else "volume"
    else:
        fields["type"] = "volume"
    fields.update(_flag_fields(flags.split(",") if flags else [], fields["type"]))
    return fields


def _are_flags(text: str) -> bool:
    known = (*ACCESS_FLAGS, *SELINUX_FLAGS, *PROPAGATIONS, "nocopy")
    return all(flag in known for flag in text.split(","))


def _flag_fields(flags: list[str], mount_type: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for flag in flags:
        if flag in ACCESS_FLAGS:
            _set_once(fields, "read_only", flag == "ro", flag)
        elif flag in SELINUX_FLAGS:
            _set_once(fields, "selinux", flag, flag)
        elif flag in PROPAGATIONS:
            if mount_type != "bind":
                raise ValueError(f"propagation flag {flag!r} applies to bind mounts only")
            _set_once(fields, "propagation", flag, flag)
        elif flag == "nocopy":
            if mount_type != "volume":
                raise ValueError("flag 'nocopy' applies to volumes only")
            _set_once(fields, "nocopy", True, flag)
        else:
            known = ", ".join((*ACCESS_FLAGS, *SELINUX_FLAGS, "nocopy", *PROPAGATIONS))
            raise ValueError(f"unknown mount flag {flag!r} (known: {known})")
    return fields


def _set_once(fields: dict[str, Any], key: str, value: Any, flag: str) -> None:
    if key in fields:
        raise ValueError(f"flag {flag!r} conflicts with an earlier flag")
    fields[key] = value
