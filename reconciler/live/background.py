"""Running one blocking call on a daemon thread while the caller does other work.

The plan reads the engine while it loads the specs: the engine builds its list answers
in its own process, so that time overlaps the loader's instead of adding to it. A daemon
thread (not an executor) is used so that a spec error can end the program at once,
without first waiting for an engine that does not answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``work()`` started on a daemon thread; ``result()`` waits for it, raising what it raised.

    With ``slots``, the work waits for one of them first: that is how a fleet bounds how
    many targets run at once (``--parallel-targets``).
    """

    def __init__(
        self, work: Callable[[], T], *, name: str, slots: threading.Semaphore | None = None
    ) -> None:
        self._work = work
        self._slots = slots
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            if self._slots is None:
                self._value = self._work()
            else:
                with self._slots:
                    self._value = self._work()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> T:
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
