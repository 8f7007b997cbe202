"""A pause of Python's cyclic garbage collector around bulk building of plain data.

Loading thousands of resources allocates hundreds of thousands of small objects, and each
allocation burst triggers a collection that walks every live object again: at 5,000
volumes that costs as much as the work itself. What the stages build are trees (no
reference cycles), so nothing is left for the collector to find; reference counting frees
everything as usual and the collector resumes afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause collection for the block, unless it was already off; restore it after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
