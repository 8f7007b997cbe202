"""A test hook: ``VOLPLAN_TEST_KILL_AFTER=N`` SIGKILLs volplan right after its Nth
mutating engine call, so fault-injection tests can cut an apply short at every step.

Every ``Engine`` call that is not one of ``base.READS`` is a kill point, so a new write is
one even before it is given its kind in ``base``.

Unset (always, outside tests) it changes nothing: ``with_crash_hook`` returns the engine.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from typing import Any, cast

from reconciler.engine.base import ENGINE_METHODS, READS, Engine

KILL_AFTER = "VOLPLAN_TEST_KILL_AFTER"


class _KillAfter:
    def __init__(self, engine: Engine, calls: int) -> None:
        self._engine = engine
        self._left = calls

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._engine, name)
        if name not in ENGINE_METHODS or name in READS:
            return method
        return self._counted(method)

    def _counted(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self._left -= 1
            if self._left <= 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return call


def with_crash_hook(engine: Engine, environ: Mapping[str, str] = os.environ) -> Engine:
    calls = environ.get(KILL_AFTER)
    if not calls:
        return engine
    return cast(Engine, _KillAfter(engine, int(calls)))
