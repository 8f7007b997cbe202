"""One engine's watch: follow its events, sync in full on a timer, heal what is safe.

Every sync is the pipeline's plan of the specs against the engine (``pipeline.plan``), so
the watch sees exactly what ``volplan plan`` would show (a timed sync that finds nothing
costs its reads, no more). A sync runs
when the watch (re)connects, every ``interval``, when the spec files change, and once a
burst of relevant events has settled (``QUIET_SECONDS`` without one, at most
``BURST_SECONDS`` after the first). With ``self_heal`` the part of the plan that may run
unattended (plan/unattended.py) is applied through the one apply use case
(``apply_locked``: the projects' lock, a fresh plan under it), one apply at a time.

When the engine goes away (the stream or a read fails), the watch reconnects with a
doubling backoff and syncs in full once it answers again.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from signal import SIGTERM

from reconciler.apply.applier import ActionResult, ApplyListener
from reconciler.apply.apply_target import ApplyTarget
from reconciler.apply.interrupt import Interruption
from reconciler.apply.lock import LockHolder
from reconciler.apply.locked_apply import Prompts, apply_locked
from reconciler.diff.drift import DriftReport, build_drift_report
from reconciler.engine.base import Engine
from reconciler.engine.records import EngineEvent
from reconciler.errors import EngineError, LockError, VolplanError
from reconciler.identity import Address
from reconciler.pipeline import Planned, Specs, plan
from reconciler.plan.actions import Action, describe
from reconciler.plan.options import PlanOptions
from reconciler.plan.unattended import split_unattended
from reconciler.watch.events import Disconnected, EventFollower, Interest, Message
from reconciler.watch.metrics import WatchMetrics
from reconciler.watch.spec_stamp import spec_stamp
from reconciler.watch.status_line import (
    DEFAULT_TARGET,
    WatchStatus,
    drift_by_project,
    status_line,
)

QUIET_SECONDS = 0.15
"""A burst of events has settled once none came for this long (``docker rm -f`` sends
kill, die and destroy within a few milliseconds)."""
BURST_SECONDS = 1.0
"""A sync starts at most this long after the first event of a burst, however long it lasts."""
SPEC_POLL_SECONDS = 1.0
"""How often the spec files' sizes and modification times are looked at."""
BACKOFF_SECONDS = (0.5, 30.0)
"""First and longest wait before reconnecting, and before retrying after a failed heal."""
LOCK_RETRY_SECONDS = 2.0
"""How long a heal waits when another run (a person's ``apply``) holds the lock."""


@dataclass(frozen=True)
class WatchSettings:
    directory: Path
    """The spec folder (or file) whose changes are looked for."""
    load: Callable[[], Specs]
    """Loads the specs from it, checked against the policy, as the command was told."""
    self_heal: bool
    interval: float


@dataclass(frozen=True)
class UnattendedTarget(ApplyTarget):
    """The specs, planned under the lock and cut to what may run unattended; ``seen`` is
    shown the whole plan first (what is held back is reported from it).

    Nothing is done while a container of the specs is being removed (``docker rm -f`` is
    under way): a start planned now would fail, and its ``destroy`` event is coming,
    which starts the next sync.
    """

    seen: Callable[[Planned], None] = field(default=lambda planned: None)

    def plan(self, engine: Engine) -> Planned:
        planned = super().plan(engine)
        self.seen(planned)
        if being_removed(planned):
            return replace(planned, plan=replace(planned.plan, actions=()))
        return replace(planned, plan=split_unattended(planned.plan).unattended)


def being_removed(planned: Planned) -> list[str]:
    """The specs' containers the engine is removing."""
    live = planned.observed.containers
    return [n for n in planned.desired.containers if n in live and live[n].status == "removing"]


class TargetWatch:
    """The watch of one target (engine); ``run`` returns once ``stop`` is set."""

    def __init__(
        self,
        name: str,
        connect: Callable[[], Engine],
        specs: Specs,
        settings: WatchSettings,
        metrics: WatchMetrics,
        *,
        log: Callable[[str], None],
        emit: Callable[[str], None],
        stop: threading.Event,
    ) -> None:
        """``log`` takes a human line (stderr), ``emit`` a status line (stdout)."""
        self.name = name
        self._connect = connect
        self._specs = specs
        self._interest = Interest.of(specs.desired)
        self._settings = settings
        self._metrics = metrics
        self._log = log
        self._emit = emit
        self._stop = stop
        self._messages: queue.Queue[Message] = queue.Queue()
        self._stamp = spec_stamp(settings.directory, specs.desired)
        self._specs_valid = True
        self._reported: dict[Address, str] = {}
        self._held_back: tuple[str, ...] = ()
        self._burst: tuple[float, float] | None = None
        """Monotonic times of the first and the latest relevant event not yet synced."""
        self._retry_at = 0.0
        self._busy = ""
        """The last lock-busy message logged (another run holds the lock)."""
        self._failure_backoff = BACKOFF_SECONDS[0]
        self._applies = 0
        self._failures = 0
        self._syncs = 0
        self._prefix = "" if name == DEFAULT_TARGET else f"[{name}] "
        self.problem: str | None = "not yet synced"
        """What /healthz reports for this target; None when the last sync succeeded."""
        metrics.declare(name)

    def wake(self) -> None:
        """Make the loop look at ``stop`` now (from a signal handler or another thread)."""
        self._messages.put(None)

    def run(self) -> None:
        delay = BACKOFF_SECONDS[0]
        while not self._stop.is_set():
            syncs = self._syncs
            try:
                self._session(self._connect())
            except EngineError as error:
                if self._syncs > syncs:  # it answered for a while: a new outage
                    delay = BACKOFF_SECONDS[0]
                self._engine_down(error, delay)
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, BACKOFF_SECONDS[1])

    def _engine_down(self, error: EngineError, delay: float) -> None:
        self.problem = f"engine unreachable: {error}"
        self._metrics.engine_up.labels(target=self.name).set(0)
        self._log(f"{self._prefix}engine unreachable ({error}); reconnecting in {delay:g}s")

    def _session(self, engine: Engine) -> None:
        """Follow events and sync until ``stop``; an ``EngineError`` ends the session."""
        messages: queue.Queue[Message] = queue.Queue()
        self._messages = messages
        ended = threading.Event()
        EventFollower(engine, messages, ended).start(since=time.time())
        try:
            self._sync(engine)
            next_sync = time.monotonic() + self._settings.interval
            next_poll = time.monotonic() + SPEC_POLL_SECONDS
            while not self._stop.is_set():
                wake_at = min(next_sync, next_poll, self._due())
                try:
                    message = messages.get(timeout=max(0.0, wake_at - time.monotonic()))
                except queue.Empty:
                    message = None
                self._take(message)
                now = time.monotonic()
                if now >= next_poll:
                    next_poll = now + SPEC_POLL_SECONDS
                    if self._reload_specs():
                        next_sync = now
                if now >= next_sync or now >= self._due():
                    self._sync(engine)
                    next_sync = time.monotonic() + self._settings.interval
        finally:
            ended.set()

    def _take(self, message: Message) -> None:
        if isinstance(message, Disconnected):
            raise message.error
        if isinstance(message, EngineEvent) and self._interest.relevant(message):
            now = time.monotonic()
            self._burst = (self._burst[0] if self._burst else now, now)

    def _due(self) -> float:
        """When the pending burst of events is to be synced (never, without one)."""
        if self._burst is None:
            return float("inf")
        first, latest = self._burst
        return max(min(latest + QUIET_SECONDS, first + BURST_SECONDS), self._retry_at)

    def _reload_specs(self) -> bool:
        """Load the specs again if their files changed; True if they did and now load."""
        stamp = spec_stamp(self._settings.directory, self._specs.desired)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            specs = self._settings.load()
        except VolplanError as error:
            self._specs_valid = False
            self.problem = "the specs do not load"
            self._log(f"{self._prefix}specs changed but do not load; not syncing until fixed:")
            for line in _error_lines(error):
                self._log(f"  {line}")
            return False
        self._specs, self._specs_valid = specs, True
        self._interest = Interest.of(specs.desired)
        self._log(f"{self._prefix}specs changed: loaded {len(specs.sources)} file(s)")
        return True

    def _sync(self, engine: Engine) -> None:
        """Plan, report, and (with self-heal) heal what may be healed, then report again.

        After an event, a self-healing watch plans once, under the lock, and reports from
        that plan: an event usually means a heal, and the lock's plan is the one that
        counts. A timed sync plans without the lock first, so a sync that finds nothing
        costs what ``volplan plan`` costs.
        """
        if not self._specs_valid:
            self._burst = None
            return
        first_event = self._burst[0] if self._burst else None
        self._burst = None
        may_heal = self._settings.self_heal and time.monotonic() >= self._retry_at
        try:
            if may_heal and first_event is not None:
                healed = self._heal(engine, first_event, report=True)
            else:
                planned = plan(self._specs, engine, PlanOptions())
                self._report(planned)
                healed = (
                    may_heal
                    and bool(split_unattended(planned.plan).unattended.actions)
                    and self._heal(engine, None, report=False)
                )
            if healed:
                self._report(plan(self._specs, engine, PlanOptions()))
        except EngineError:
            raise
        except VolplanError as error:  # e.g. a network the specs name is missing
            self.problem = f"the specs cannot be planned: {error}"
            self._log(f"{self._prefix}cannot plan the specs; trying again at the next sync:")
            for line in _error_lines(error):
                self._log(f"  {line}")

    def _report(self, planned: Planned) -> None:
        """Log the drift, set the metrics and print the status line of a full sync."""
        if self._settings.self_heal:
            self._tell_held_back(split_unattended(planned.plan).held_back)
        now = time.time()
        report = build_drift_report(planned.desired, planned.after_recovery, planned.diff)
        drift = drift_by_project(report, planned.desired, planned.after_recovery)
        self._tell_drift(report)
        self._metrics.set_drift(self.name, drift)
        self._metrics.last_sync.labels(target=self.name).set(now)
        self._metrics.engine_up.labels(target=self.name).set(1)
        self.problem = None
        self._syncs += 1
        status = WatchStatus(
            self.name, planned.observed.engine, now, drift, self._applies, self._failures
        )
        self._emit(status_line(status, now))

    def _heal(self, engine: Engine, first_event: float | None, *, report: bool) -> bool:
        """Apply the unattended part of a plan made under the lock (with ``report``, the
        sync's report is made from that plan); True if anything was applied."""
        target = UnattendedTarget(self._specs, PlanOptions())
        target = replace(target, seen=self._report) if report else target
        prompts = Prompts(show_plan=self._tell_heal, confirm=None, on_lock_wait=self._waiting)
        listener = ApplyListener(on_result=self._tell_result)
        try:
            applied = apply_locked(
                target,
                engine,
                prompts,
                listener,
                lock_timeout=0,
                parallelism=None,
                interruption=Interruption(),  # a lock lost stops this heal, not the watch
            )
        except LockError as error:
            if str(error) != self._busy:  # once per holder, not at every retry
                self._log(f"{self._prefix}not healing yet: {error}")
            self._busy = str(error)
            self._retry_at = time.monotonic() + LOCK_RETRY_SECONDS
            self._burst = self._burst or (time.monotonic(), time.monotonic())
            return False
        except SystemExit as exit_:
            if exit_.code != 128 + SIGTERM:
                raise
            self._log(f"{self._prefix}stopped during a heal; the next run finishes it")
            self._stop.set()
            return False
        except VolplanError as error:
            self._heal_failed(error)
            if isinstance(error, EngineError):
                raise
            return True
        self._failure_backoff = BACKOFF_SECONDS[0]
        self._busy = ""
        if applied.done:
            self._applies += 1
            self._metrics.applies.labels(target=self.name).inc()
            if first_event is not None:
                seconds = time.monotonic() - first_event
                self._metrics.heal_seconds.labels(target=self.name).observe(seconds)
        return bool(applied.done)

    def _heal_failed(self, error: VolplanError) -> None:
        self._failures += 1
        self._metrics.failures.labels(target=self.name).inc()
        self._log(
            f"{self._prefix}heal failed: {error}; retrying in {self._failure_backoff:g}s "
            "or at the next sync"
        )
        self._retry_at = time.monotonic() + self._failure_backoff
        self._failure_backoff = min(self._failure_backoff * 2, BACKOFF_SECONDS[1])

    def _tell_heal(self, planned: Planned) -> None:
        removing = being_removed(planned)
        if removing:
            self._log(f"{self._prefix}healing once the engine has removed {', '.join(removing)}")
        if planned.plan.actions:
            self._log(f"{self._prefix}healing {len(planned.plan.actions)} action(s):")
        for action in planned.plan.actions:
            self._log(f"{self._prefix}  {_action_line(action)}")

    def _tell_result(self, result: ActionResult) -> None:
        outcome = "done" if result.ok else f"failed: {result.error}"
        self._log(f"{self._prefix}  {describe(result.action).address}: {outcome}")

    def _waiting(self, holder: LockHolder) -> None:
        self._log(f"{self._prefix}waiting for the lock on {holder.project}, held by {holder}")

    def _tell_drift(self, report: DriftReport) -> None:
        """A line for each finding that is new or changed since the last sync, and one for
        each resource back in sync: a finding that lasts is not repeated every sync."""
        findings = {
            entry.address: f"{entry.status.value}: {entry.reason}"
            + (" (its fix destroys data: not healed)" if entry.destructive_fix else "")
            for entry in report.drifted
        }
        for address, finding in findings.items():
            if self._reported.get(address) != finding:
                self._log(f"{self._prefix}drift: {address}: {finding}")
        for address in self._reported.keys() - findings.keys():
            self._log(f"{self._prefix}in sync: {address}")
        self._reported = findings

    def _tell_held_back(self, held: tuple[Action, ...]) -> None:
        lines = tuple(_action_line(a) for a in held)
        if lines and lines != self._held_back:
            self._log(
                f"{self._prefix}not healed: {len(lines)} action(s) wait for "
                "`volplan apply --allow-data-loss` (or --migrate) by a person:"
            )
            for line in lines:
                self._log(f"{self._prefix}  {line}")
        self._held_back = lines


def _action_line(action: Action) -> str:
    shown = describe(action)
    return f"{shown.symbol} {shown.verb} {shown.address} [{shown.safety.value}]: {action.reason}"


def _error_lines(error: VolplanError) -> list[str]:
    problems = getattr(error, "problems", None)
    return [str(p) for p in problems] if problems else [str(error)]
