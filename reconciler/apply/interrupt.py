"""Stopping a run whose work is in threads (a fleet's targets) on SIGTERM or SIGINT.

Python delivers a signal to the main thread only, and the engine lock's own handling
(lock.py) works there only. Raised in the main thread, ``SystemExit`` would leave each
target's thread running on; SIGTERM's default ends the process at once, with every
target's lock held until its lease runs out. So the main thread turns the signal into a
request each target's thread sees at its next step: before it starts, while it waits for a
lock, before it applies, and between actions (the scheduler starts none once stopped; those
running finish, a container's stop included). Each thread then unwinds as after an error,
releasing its locks at once, and the run reports what was done and what was not.

Each target's thread has its own ``Interruption``, a ``child`` of the run's: a signal stops
them all, while a target whose lock was taken over (its lease expired: lock.py) stops
alone, where a single engine's run is interrupted in its main thread.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from reconciler.errors import Interrupted

STOPPING_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass
class Interruption:
    """Whether a stop was asked, and by which signal: the run's (shared by its threads), or
    one thread's, which also stops when its ``parent`` does."""

    signum: int = 0
    parent: Interruption | None = None
    _asked: threading.Event = field(default_factory=threading.Event)

    def child(self) -> Interruption:
        """One thread's: stopped by this one's signal, or on its own (``stop``)."""
        return Interruption(parent=self)

    def stop(self) -> None:
        """Ask this one (not its parent, nor its siblings) to stop, with no signal."""
        self._asked.set()

    def request(self, signum: int, frame: FrameType | None = None) -> None:
        """The signal handler: ask every thread to stop at its next step."""
        if not self._asked.is_set():
            self.signum = signum
            self._asked.set()
            sys.stderr.write(
                f"{self.name}: stopping: no new action starts, those running finish, "
                "and every lock is released\n"
            )

    def requested(self) -> bool:
        return self._asked.is_set() or (self.parent is not None and self.parent.requested())

    @property
    def name(self) -> str:
        """The signal that stopped the run, or ``a stop`` (``stop``, with no signal)."""
        if self.signum:
            return signal.Signals(self.signum).name
        if self.parent is not None and self.parent.requested():
            return self.parent.name
        return "a stop"

    @property
    def exit_code(self) -> int | None:
        """A shell's code for a run ended by the signal (143 for SIGTERM), or None."""
        return 128 + self.signum if self.signum else None

    def check(self, what: str) -> None:
        """Raise ``Interrupted`` (saying ``what`` was not done) if a stop was asked."""
        if self.requested():
            raise Interrupted(f"stopped by {self.name}: {what}")


@contextmanager
def interruptible() -> Iterator[Interruption]:
    """An ``Interruption`` that SIGTERM and SIGINT request while the block runs (in the
    main thread; elsewhere no signal reaches it, and the block runs unchanged)."""
    interruption = Interruption()
    if threading.current_thread() is not threading.main_thread():
        yield interruption
        return
    previous = {s: signal.signal(s, interruption.request) for s in STOPPING_SIGNALS}
    try:
        yield interruption
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
