"""SIGTERM and SIGINT to a run whose work is in threads become a stop each thread sees."""

from __future__ import annotations

import os
import signal

import pytest

from reconciler.apply.interrupt import Interruption, interruptible
from reconciler.errors import Interrupted


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_asks_every_thread_to_stop_and_the_handlers_come_back(
    signum: signal.Signals, code: int
) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    with interruptible() as interruption:
        target = interruption.child()
        os.kill(os.getpid(), signum)  # handled here, in the main thread: no exception

    assert target.requested()
    assert (target.name, interruption.exit_code) == (signum.name, code)
    with pytest.raises(Interrupted, match=f"^stopped by {signum.name}: the rest$"):
        target.check("the rest")
    assert {s: signal.getsignal(s) for s in before} == before


def test_one_threads_stop_is_its_own() -> None:
    run = Interruption()
    one, other = run.child(), run.child()

    one.stop()

    assert (one.requested(), other.requested(), run.requested()) == (True, False, False)
    assert run.exit_code is None
