"""A test hook: ``VOLPLAN_TEST_KILL_AFTER=N`` SIGKILLs volplan right after its Nth
mutating engine call, so fault-injection tests can cut an apply short at every step.

Unset (always, outside tests) it changes nothing: ``with_crash_hook`` returns the engine.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from typing import Any, cast

from reconciler.engine.base import Engine

KILL_AFTER = "VOLPLAN_TEST_KILL_AFTER"
MUTATING = frozenset(
    {
        "create_volume",
        "remove_volume",
        "create_container",
        "start_container",
        "stop_container",
        "rename_container",
        "remove_container",
        "put_archive",
    }
)


class _KillAfter:
    def __init__(self, engine: Engine, calls: int) -> None:
        self._engine = engine
        self._left = calls

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._engine, name)
        if name not in MUTATING:
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
