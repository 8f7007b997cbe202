"""Following the engine's events, in a thread, for the watch loop to wake up on.

The stream is asked for in windows (``until`` a minute ahead; the engine ends the
response then) and each window starts where the last one ended (``since``, which the
engine answers from the recent events it keeps), so no event falls between two windows
and an idle stream never meets the connection's read timeout.

The engine ANDs filters of different keys (``container=`` and ``volume=`` together match
nothing), so the request filters on the kinds of object and of event only, and
``relevant`` keeps what the specs name or volplan manages.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass

from reconciler import labels
from reconciler.engine.base import Engine
from reconciler.engine.records import EngineEvent
from reconciler.errors import EngineError
from reconciler.model import DesiredState

WINDOW_SECONDS = 50.0
"""How long one events request lasts: under the engine connection's read timeout."""

FILTERS = {
    "type": ("container", "volume"),
    "event": ("create", "start", "die", "destroy", "rename", "pause", "unpause", "update"),
}
"""What can make an engine differ from the specs. Not ``mount``/``unmount`` (every start
sends them) nor ``exec_*`` and ``archive-path`` (the lock's lease renewals send those)."""


@dataclass(frozen=True)
class Interest:
    """What the watch cares about: the specs' names and projects."""

    containers: Collection[str]
    volumes: Collection[str]
    projects: Collection[str]

    @classmethod
    def of(cls, desired: DesiredState) -> Interest:
        return cls(
            frozenset(desired.containers), frozenset(desired.volumes), frozenset(desired.projects)
        )

    def relevant(self, event: EngineEvent) -> bool:
        """An event about a resource the specs name, or one labelled as their project's (a
        container left over, or one being recreated under its temporary name)."""
        if event.type == "volume":
            return event.name in self.volumes
        return (
            event.name in self.containers or event.attributes.get(labels.PROJECT) in self.projects
        )


@dataclass(frozen=True)
class Disconnected:
    """The stream failed: the engine stopped, or restarts."""

    error: EngineError


Message = EngineEvent | Disconnected | None
"""What the follower (or a signal handler: ``None``, to wake the loop) puts on the queue."""


class EventFollower:
    """Puts every event of ``FILTERS`` on ``messages`` until the stream fails or ``stop``."""

    def __init__(
        self, engine: Engine, messages: queue.Queue[Message], stop: threading.Event
    ) -> None:
        self._engine = engine
        self._messages = messages
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="volplan-events", daemon=True)

    def start(self, since: float) -> None:
        self._since = since
        self._thread.start()

    def _run(self) -> None:
        since = self._since
        try:
            while not self._stop.is_set():
                until = time.time() + WINDOW_SECONDS
                for event in self._engine.events(since, until, FILTERS):
                    if self._stop.is_set():
                        return
                    self._messages.put(event)
                since = until
        except EngineError as error:
            self._messages.put(Disconnected(error))
