"""Results kept per object: for pure functions of frozen data, asked again about one object.

A fleet plans one spec set for many engines, and every engine's diff asks what each
desired resource's recorded config is: an answer that depends on the resource alone.
Frozen dataclasses that hold dicts cannot be hashed, so the key is the object's identity,
checked through a weak reference: an entry goes with its object, and an ID that a later
object reuses never answers for it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def by_identity(function: Callable[[T], R]) -> Callable[[T], R]:
    """``function`` computed once per live argument object. Its result is shared by every
    caller, so callers must not change it."""
    results: dict[int, tuple[weakref.ref[T], R]] = {}

    def forget(key: int) -> Callable[[object], None]:
        def drop(_: object) -> None:
            results.pop(key, None)

        return drop

    def memoized(value: T) -> R:
        key = id(value)
        entry = results.get(key)
        if entry is not None and entry[0]() is value:
            return entry[1]
        result = function(value)
        results[key] = (weakref.ref(value, forget(key)), result)
        return result

    memoized.__doc__ = function.__doc__
    memoized.__name__ = function.__name__
    return memoized
