"""One way to print a path into nested data, shared by spec errors and plan changes. Pure."""

from __future__ import annotations

from collections.abc import Sequence


def format_path(path: Sequence[str | int]) -> str:
    """``("containers", "web", "mounts", 1)`` -> ``containers.web.mounts[1]``.

    Keys that are container paths (``/data``) are bracketed too: ``mounts[/data].read_only``.
    """
    text = ""
    for segment in path:
        if isinstance(segment, int) or segment.startswith("/"):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else segment
    return text
