"""The engine lock: one apply at a time per engine and project, even from two machines.

The lock lives on the engine itself, as a container named ``volplan-lock-<project>`` that
is created and never started. Creating a container whose name is taken fails with 409, so
creation is an atomic test-and-set that every client of the engine sees, wherever it runs.
The lock's labels say who holds it: user@host, pid, operation, since when, a lock id and
the lease period. The lock carries no ``io.volplan.project`` label, so prune, drift and
saved-plan fingerprints never see it as one of the project's resources.

A lock frees itself when its holder dies, through a lease. While it holds the lock, the
holder rewrites a small file in the lock container (``/volplan-lease``, through the
archive endpoint) every quarter of the lease period. A waiter reads that file each second
and judges, on its own monotonic clock, that the lease expired once it has seen the file
unchanged for longer than the lease period the holder declared. No two clocks are ever
compared, so clock skew between hosts cannot rob a holder, and a holder that is alive
renews long before its lease runs out. A frozen holder (SIGSTOP, a suspended VM) stops
renewing and loses the lock once the lease expires, never before; when it wakes, its next
renewal finds the lock gone and interrupts the run with a ``LockError``.

Why a lease and not a container tied to the holder's connection (attached, removed when
the connection closes): that container would have to run, so its image would need an
executable, and the lock must work on an engine with no image but volplan's own empty
one. A lease needs nothing to run and survives an engine restart like any container.

A holder that is known dead frees its lock at once: one that ran in the waiter's own pid
namespace (same kernel boot, same namespace) and whose process is gone. A killed apply
therefore never blocks the next one on the same machine, and one from another machine
waits for the lease at most.

Taking over an expired or dead lock is atomic: the waiter removes the old lock container
by its ID (never by name, so it can only ever remove the lock it judged) and then creates
its own by name, which only one waiter can do. ``volplan unlock`` stays for the rare case
the engine cannot settle it.

The lock container needs an image present on the engine: the helper image, volplan's own
empty one unless ``--helper-image`` names another, imported from an empty archive.

``plan`` and ``drift`` only read, so they never lock (Terraform's ``-lock=false`` for drift
jobs). ``$VOLPLAN_LOCK_LEASE`` sets the lease period in seconds (default 30; tests use a
short one); waiters honour the period each holder declared.
"""

from __future__ import annotations

import _thread
import getpass
import io
import math
import os
import signal
import socket
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType

from reconciler import labels
from reconciler.apply.interrupt import Interruption
from reconciler.engine.base import ContainerCreate, Engine, ensure_image
from reconciler.errors import EngineConflict, EngineError, EngineNotFound, LockError, VolplanError

LOCK_NAME_PREFIX = "volplan-lock-"
LOCK = labels.PREFIX + "lock"
LOCK_ID = LOCK + ".id"
LOCK_WHO = LOCK + ".who"
LOCK_PID = LOCK + ".pid"
LOCK_OPERATION = LOCK + ".operation"
LOCK_CREATED = LOCK + ".created"
LOCK_LEASE = LOCK + ".lease"
LOCK_PROCESS = LOCK + ".process"
LEASE_FILE = "/volplan-lease"
LEASE_ENV = "VOLPLAN_LOCK_LEASE"
DEFAULT_LEASE_SECONDS = 30.0
MIN_LEASE_SECONDS = 1.0
RENEWALS_PER_LEASE = 4
POLL_SECONDS = 1.0
_MAX_LEASE_BYTES = 4096


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project's lock, read back from the lock container's labels."""

    project: str
    container_id: str
    lock_id: str
    who: str
    pid: int
    operation: str
    created: str
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    process: str = ""
    """Where the holder ran (boot id, pid namespace, pid, start time); empty if unknown."""

    @property
    def host(self) -> str:
        return self.who.rpartition("@")[2]

    def __str__(self) -> str:
        return (
            f"{self.who} (pid {self.pid}, {self.operation}) since {self.created}, "
            f"lock id {self.lock_id}"
        )

    def is_dead(self) -> bool:
        """Known gone: it ran in our own pid namespace and its process no longer runs."""
        parts = self.process.split("/")
        here = _process_identity(os.getpid()).split("/")
        if len(parts) != 4 or len(here) != 4 or here[:2] != parts[:2]:
            return False
        pid, started = parts[2:]
        return _start_time(int(pid) if pid.isdigit() else 0) != started


@dataclass
class _LeaseWatch:
    """A waiter's view of one lease: what it last read and when, on its own clock."""

    key: tuple[str, bytes] = ("", b"")
    since: float = 0.0

    def expired(self, holder: LockHolder, lease: bytes, now: float) -> bool:
        if (holder.container_id, lease) != self.key:
            self.key, self.since = (holder.container_id, lease), now
            return False
        return now - self.since > holder.lease_seconds


@dataclass
class _Renewal:
    """The holder's side of the lease: a daemon thread rewriting the lease file."""

    engine: Engine
    project: str
    container_id: str
    lease_seconds: float
    on_lost: Callable[[], None] = _thread.interrupt_main
    """Stops the run that lost the lock: its main thread, or a fleet target's thread."""
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"volplan-lease-{self.project}")
        self.thread.daemon = True
        self.thread.start()

    def _run(self) -> None:
        """A short run ends before its first renewal: a lease file not yet written is a
        lease value too, and it expires like any other."""
        count = 0
        while not self.stop.wait(self.lease_seconds / RENEWALS_PER_LEASE):
            try:
                self.engine.put_file(self.container_id, LEASE_FILE, f"{count}\n".encode())
            except EngineNotFound:
                self.lost = True  # taken over (our lease expired) or removed by force
                if not self.stop.is_set():
                    self.on_lost()  # stop the run: it no longer holds the lock
                return
            except EngineError:
                pass  # the engine is restarting or slow: try again at the next beat
            count += 1

    def join(self) -> None:
        """Wait for the thread to end; the interrupt it may have sent on losing the lock
        arrives here at the latest, and is the loss ``_release_all`` reports."""
        while self.thread is not None:
            try:
                self.thread.join(timeout=self.lease_seconds)
                return
            except KeyboardInterrupt:
                if not self.lost:
                    raise


def lock_name(project: str) -> str:
    return LOCK_NAME_PREFIX + project


def lease_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """``$VOLPLAN_LOCK_LEASE`` seconds, at least one; 30 when unset."""
    raw = environ.get(LEASE_ENV, "")
    if not raw:
        return DEFAULT_LEASE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not (math.isfinite(seconds) and seconds >= MIN_LEASE_SECONDS):
        raise LockError(f"${LEASE_ENV}={raw!r}: give the lease in seconds, at least 1")
    return seconds


@contextmanager
def engine_lock(
    engine: Engine,
    projects: Iterable[str],
    *,
    image: str,
    operation: str,
    timeout: float,
    on_wait: Callable[[LockHolder], None],
    interruption: Interruption | None = None,
) -> Iterator[None]:
    """Hold every project's lock (taken in sorted order, so two runs cannot deadlock).

    While held, SIGTERM (what CI runners send to cancel a job) unwinds like Ctrl-C, so the
    lock is released; a SIGKILLed holder's lock frees itself (see the module docstring).
    In a thread, where no signal arrives, the stop the main thread asks (``interruption``,
    interrupt.py) ends a wait for a lock; the caller's block unwinds on its own. There, a
    lock lost while held stops ``interruption`` (the thread's own) instead of the main
    thread. Whenever the lock turns out lost at release (a holder frozen past its lease
    may fail on what the run that took over changed before its renewal notices), the
    block's error is replaced by the ``LockError`` saying so.
    """
    lease = lease_seconds()
    ensure_image(engine, image, lambda status: None)
    renewals: list[_Renewal] = []
    failure: KeyboardInterrupt | VolplanError | None = None
    with _terminate_gracefully():
        try:
            for project in sorted(set(projects)):
                _acquire(
                    engine,
                    project,
                    request=_lock_request(project, image, operation, lease),
                    timeout=timeout,
                    on_wait=on_wait,
                    on_made=partial(
                        _held,
                        renewals,
                        engine=engine,
                        project=project,
                        lease=lease,
                        on_lost=_thread.interrupt_main
                        if interruption is None
                        else interruption.stop,
                    ),
                    interruption=interruption,
                )
                renewals[-1].start()
            yield
        except (KeyboardInterrupt, VolplanError) as error:
            failure = error  # reported as is, unless the lock turns out lost (below)
        finally:
            lost = _release_all(engine, renewals)
        if lost:
            raise LockError(_lost_message(lost, lease)) from failure
        if failure is not None:
            raise failure


def _held(
    renewals: list[_Renewal],
    container_id: str,
    *,
    engine: Engine,
    project: str,
    lease: float,
    on_lost: Callable[[], None],
) -> None:
    renewals.append(_Renewal(engine, project, container_id, lease, on_lost))


def _release_all(engine: Engine, renewals: list[_Renewal]) -> list[str]:
    """Stop renewing, then remove each lock by ID; the projects whose lock was lost (taken
    over after its lease expired, or removed by force) while this run held it."""
    for renewal in renewals:
        renewal.stop.set()
    lost = []
    for renewal in reversed(renewals):
        renewal.join()
        if not _release(engine, renewal.container_id) or renewal.lost:
            lost.append(renewal.project)
    return sorted(lost)


@contextmanager
def _terminate_gracefully() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit`` (exit code 143) so that ``finally`` blocks run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    if _stop.deferred:
        _stop.pending = signum
        return
    raise SystemExit(128 + signum)


class _Stop:
    deferred = False
    pending = 0


_stop = _Stop()


@contextmanager
def _stop_deferred() -> Iterator[None]:
    """SIGTERM waits while a lock is made and registered: landing in the middle of the
    create request, it would leave the lock made on the engine with its ID never read, so
    never released (until its lease ran out). It takes effect once the lock is known."""
    _stop.deferred = True
    try:
        yield
    finally:
        _stop.deferred = False
        signum, _stop.pending = _stop.pending, 0
        if signum:  # the stop wins over whatever the create raised (a busy lock)
            raise SystemExit(128 + signum)


def _acquire(
    engine: Engine,
    project: str,
    *,
    request: ContainerCreate,
    timeout: float,
    on_wait: Callable[[LockHolder], None],
    on_made: Callable[[str], None],
    interruption: Interruption | None,
) -> None:
    """Create the project's lock, waiting for its holder if it is held; ``on_made`` is
    given the lock's ID before any SIGTERM can stop the run."""
    deadline = time.monotonic() + timeout
    watch = _LeaseWatch()
    announced = False
    while True:
        try:
            with _stop_deferred():
                on_made(engine.create_container(request))
            return
        except EngineConflict:
            holder = read_holder(engine, project)
        if holder is None:
            continue  # released between our create and our read: try again at once
        lease = read_lease(engine, holder)
        if lease is None:
            continue  # released while we looked
        if holder.is_dead() or watch.expired(holder, lease, time.monotonic()):
            _release(engine, holder.container_id)  # by ID: only ever the lock judged here
            continue
        # With a timeout, wait at least one poll, so a slow engine still gets announced.
        if time.monotonic() >= deadline and (announced or not timeout):
            raise LockError(_busy_message(holder, timeout))
        if not announced:
            on_wait(holder)
            announced = True
        if interruption is not None:
            interruption.check(f"waiting for the lock on project {project!r}, held by {holder}")
        time.sleep(POLL_SECONDS)


def read_lease(engine: Engine, holder: LockHolder) -> bytes | None:
    """The lease file's content (empty before the first renewal); None if the lock is gone."""
    try:
        with tarfile.open(fileobj=io.BytesIO(_bounded(engine, holder.container_id))) as tar:
            member = next(iter(tar), None)
            body = tar.extractfile(member) if member is not None else None
            return body.read(_MAX_LEASE_BYTES) if body is not None else b""
    except EngineNotFound:
        try:
            engine.inspect_container(holder.container_id)
        except EngineNotFound:
            return None
        return b""  # held, but not yet renewed once
    except tarfile.TarError:
        return b""


def _bounded(engine: Engine, container_id: str) -> bytes:
    chunks = []
    size = 0
    for chunk in engine.get_archive(container_id, LEASE_FILE):
        chunks.append(chunk)
        size += len(chunk)
        if size > 4 * _MAX_LEASE_BYTES:
            break
    return b"".join(chunks)


def _lock_request(project: str, image: str, operation: str, lease: float) -> ContainerCreate:
    return ContainerCreate(
        name=lock_name(project),
        image=image,
        command=("volplan-lock",),  # never started; a start would fail harmlessly
        labels={
            LOCK: project,
            LOCK_ID: uuid.uuid4().hex,
            LOCK_WHO: f"{_user()}@{socket.gethostname()}",
            LOCK_PID: str(os.getpid()),
            LOCK_OPERATION: operation,
            LOCK_CREATED: datetime.now(UTC).isoformat(timespec="seconds"),
            LOCK_LEASE: f"{lease:g}",
            LOCK_PROCESS: _process_identity(os.getpid()),
        },
        mounts=(),
        network_mode="none",
    )


def _busy_message(holder: LockHolder, timeout: float) -> str:
    return (
        f"project {holder.project!r} is locked by {holder} (waited {timeout:g}s). "
        f"Run volplan apply again, or with --lock-timeout {holder.lease_seconds + 5:g}: "
        f"if that run is gone, its lock frees itself {holder.lease_seconds:g}s after its "
        "last renewal. Only if the engine cannot settle it, release it with: "
        f"volplan unlock {holder.project} --force"
    )


def _lost_message(projects: list[str], lease: float) -> str:
    return (
        f"lost the lock on project {', '.join(projects)}: this run did not renew it for "
        f"more than its {lease:g}s lease (was it frozen?), and another run took it over. "
        "This run stopped there; run volplan plan to see where the engine stands, then "
        "volplan apply again if it shows changes"
    )


def read_holder(engine: Engine, project: str) -> LockHolder | None:
    """The current holder of the project's lock, or None when it is free."""
    try:
        container = engine.inspect_container(lock_name(project))
    except EngineNotFound:
        return None
    found = container.labels
    if found.get(LOCK) != project:
        raise LockError(
            f"a container named {lock_name(project)} exists but is not a volplan lock; "
            "rename or remove it"
        )
    pid = found.get(LOCK_PID, "")
    return LockHolder(
        project=project,
        container_id=container.id,
        lock_id=found.get(LOCK_ID, "?"),
        who=found.get(LOCK_WHO, "?"),
        pid=int(pid) if pid.isdigit() else 0,
        operation=found.get(LOCK_OPERATION, "?"),
        created=found.get(LOCK_CREATED, "?"),
        lease_seconds=_declared_lease(found.get(LOCK_LEASE, "")),
        process=found.get(LOCK_PROCESS, ""),
    )


def _declared_lease(raw: str) -> float:
    """A holder's declared lease; a lock from before leases (no label), or one declaring
    no finite period, gets the default."""
    try:
        seconds = float(raw)
    except ValueError:
        return DEFAULT_LEASE_SECONDS
    return max(seconds, MIN_LEASE_SECONDS) if math.isfinite(seconds) else DEFAULT_LEASE_SECONDS


def unlock(engine: Engine, project: str, *, force: bool) -> LockHolder | None:
    """Release a lock left behind: one whose holder is known dead, or any one with ``force``."""
    holder = read_holder(engine, project)
    if holder is None:
        return None
    if not force and not holder.is_dead():
        raise LockError(
            f"project {project!r} is locked by {holder}, and that run is not known to be gone "
            "(its pid still runs, or it holds the lock from another machine). Wait: if it is "
            f"gone, its lock frees itself {holder.lease_seconds:g}s after its last renewal, "
            "and volplan apply takes it over. If the engine cannot settle it, run: "
            f"volplan unlock {project} --force"
        )
    _release(engine, holder.container_id)
    return holder


def _release(engine: Engine, container_id: str) -> bool:
    """Remove a lock by ID; False if it was gone already (taken over, or unlocked by force).
    An engine that cannot be reached is no error: a lock left so frees itself, since its
    holder ends."""
    try:
        engine.remove_container(container_id)
    except EngineNotFound:
        return False
    except EngineError:
        pass
    return True


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _process_identity(pid: int) -> str:
    """``boot-id/pid-namespace/pid/start-time``, which names one process on one machine
    for as long as it runs; empty where ``/proc`` cannot tell (not Linux, or a ``/proc``
    mounted for another pid namespace, where its pids would not be ours)."""
    try:
        if os.readlink("/proc/self") != str(os.getpid()):
            return ""
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    started = _start_time(pid)
    return f"{boot}/{namespace}/{pid}/{started}" if started else ""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (``/proc/PID/stat`` field 22)."""
    if pid <= 0:
        return ""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]
