"""Counted nouns for every report: ``1 resource``, ``2 resources``. Pure."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one; ``plural`` where adding "s" is wrong."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {plural or noun + 's'}"
