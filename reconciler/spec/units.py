"""Durations and byte sizes written as Compose writes them ("1m30s", "64m"). Pure.

Durations follow Go's ``time.ParseDuration``, which Compose uses for healthcheck timings,
plus the ``d`` and ``w`` units of the str2duration parser compose-go decodes them with.
Sizes follow docker/go-units' ``RAMInBytes``, Compose's parser for ``shm_size`` and
``mem_limit``: a plain integer is bytes, a unit is binary (``k`` is 1024), and ``b``/``ib``
may follow it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

NANOSECONDS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 24 * 3600 * 1_000_000_000,
    "w": 7 * 24 * 3600 * 1_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w)")
_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$", re.IGNORECASE)
_SIZE_UNITS = {None: 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
DURATION_PATTERN = rf"^\+?(-?0|({_DURATION_PART.pattern})+)$"
"""What ``parse_duration`` accepts, as a JSON Schema pattern (for editors)."""
SIZE_PATTERN = r"^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$"
"""What ``parse_bytes`` accepts as a string (``_SIZE`` without its flag), for editors."""


def parse_duration(text: str) -> int:
    """Nanoseconds in ``text``, such as ``1m30s`` or ``1.5h``; ``ValueError`` if malformed."""
    if text in {"0", "+0", "-0"}:
        return 0
    body = text.removeprefix("+")
    if body.startswith("-"):
        raise ValueError(f"duration {text!r} is negative")
    total, position = Decimal(0), 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        total += Decimal(match[1]) * NANOSECONDS[match[2]]
        position = match.end()
    if not body or position != len(body):
        raise ValueError(
            f"{text!r} is not a duration: write a number and a unit, such as 30s, 1m30s or 500ms"
        )
    return int(total)


def parse_bytes(value: int | str) -> int:
    """Bytes in ``value``: an integer, or a size such as ``64m``, ``1.5g``, ``512kb``."""
    if isinstance(value, int):
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a size: write bytes, or a number and k, m, g, t or p")
    try:
        number = Decimal(match[1])
    except InvalidOperation:  # "1.2.3" passes go-units' pattern but is no number
        raise ValueError(f"{value!r} is not a size") from None
    unit = match[2].lower() if match[2] else None
    return int(number * 1024 ** _SIZE_UNITS[unit])
