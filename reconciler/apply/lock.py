"""The engine lock: one apply at a time per engine and project, even from two machines.

The lock lives on the engine itself, as a container named ``volplan-lock-<project>`` that
is created and never started. Creating a container whose name is taken fails with 409, so
creation is an atomic test-and-set that every client of the engine sees, wherever it runs.
The lock's labels say who holds it: user@host, pid, operation, since when, and a lock id.
A run releases its lock by the container's own ID, so it never removes a lock someone
else took after a forced unlock. The lock carries no ``io.volplan.project`` label, so
prune, drift and saved-plan fingerprints never see it as one of the project's resources.

A container needs an image present on the engine: the first present of
``$VOLPLAN_HELPER_IMAGE`` (default ``volplan-helper:latest``), ``busybox:latest`` and the
specs' images; failing that, the first spec image is pulled (apply needs it anyway).

``plan`` and ``drift`` only read, so they never lock (Terraform's ``-lock=false`` for drift
jobs). A lock left by a killed run stays until ``volplan unlock`` removes it; a lock taken
on this host by a process that no longer runs is reported as stale.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from reconciler import labels
from reconciler.engine.base import ContainerCreate, Engine
from reconciler.errors import EngineConflict, EngineError, EngineNotFound, LockError

LOCK_NAME_PREFIX = "volplan-lock-"
LOCK = labels.PREFIX + "lock"
LOCK_ID = LOCK + ".id"
LOCK_WHO = LOCK + ".who"
LOCK_PID = LOCK + ".pid"
LOCK_OPERATION = LOCK + ".operation"
LOCK_CREATED = LOCK + ".created"
POLL_SECONDS = 1.0


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

    @property
    def host(self) -> str:
        return self.who.rpartition("@")[2]

    def __str__(self) -> str:
        return (
            f"{self.who} (pid {self.pid}, {self.operation}) since {self.created}, "
            f"lock id {self.lock_id}"
        )

    def is_stale(self) -> bool:
        """Taken on this host by a process that no longer runs (a killed run)."""
        return self.host == socket.gethostname() and not _pid_runs(self.pid)


def lock_name(project: str) -> str:
    return LOCK_NAME_PREFIX + project


@contextmanager
def engine_lock(
    engine: Engine,
    projects: Iterable[str],
    *,
    images: Sequence[str],
    operation: str,
    timeout: float,
    on_wait: Callable[[LockHolder], None],
) -> Iterator[None]:
    """Hold every project's lock (taken in sorted order, so two runs cannot deadlock).

    While held, SIGTERM (what CI runners send to cancel a job) unwinds like Ctrl-C, so the
    lock is released; only a SIGKILL leaves a stale lock behind.
    """
    image = choose_image(engine, images)
    with _terminate_gracefully(), ExitStack() as held:
        for project in sorted(set(projects)):
            container_id = _acquire(
                engine,
                project,
                image=image,
                operation=operation,
                timeout=timeout,
                on_wait=on_wait,
            )
            held.callback(_release, engine, container_id)
        yield


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
    raise SystemExit(128 + signum)


def choose_image(engine: Engine, candidates: Sequence[str]) -> str:
    """The first candidate present on the engine, else the first one, pulled."""
    for image in candidates:
        if engine.image_present(image):
            return image
    if not candidates:
        raise _no_image(candidates, "")
    try:
        engine.pull_image(candidates[0], lambda status: None)
    except EngineError as exc:
        raise _no_image(candidates, f" (pulling {candidates[0]} failed: {exc})") from None
    return candidates[0]


def _no_image(candidates: Sequence[str], detail: str) -> LockError:
    return LockError(
        "the engine lock is a container that is never started, and it needs an image present "
        f"on the engine; none of {', '.join(candidates) or 'the spec images'} is{detail}. "
        "Pull one (for example docker pull busybox) or name one with --helper-image"
    )


def _acquire(
    engine: Engine,
    project: str,
    *,
    image: str,
    operation: str,
    timeout: float,
    on_wait: Callable[[LockHolder], None],
) -> str:
    request = _lock_request(project, image, operation)
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            return engine.create_container(request)
        except EngineConflict:
            holder = read_holder(engine, project)
        if holder is None:
            continue  # released between our create and our read: try again at once
        if time.monotonic() >= deadline:
            raise LockError(_busy_message(holder, timeout))
        if not announced:
            on_wait(holder)
            announced = True
        time.sleep(POLL_SECONDS)


def _lock_request(project: str, image: str, operation: str) -> ContainerCreate:
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
        },
        mounts=(),
        network_mode="none",
    )


def _busy_message(holder: LockHolder, timeout: float) -> str:
    stale = (
        f" It looks stale: pid {holder.pid} no longer runs on this host."
        if holder.is_stale()
        else ""
    )
    return (
        f"project {holder.project!r} is locked by {holder} (waited {timeout:g}s).{stale} "
        f"If that run is gone, release the lock with: volplan unlock {holder.project} --force"
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
    )


def unlock(engine: Engine, project: str, *, force: bool) -> LockHolder | None:
    """Release a lock left behind: a stale one, or any one with ``force``."""
    holder = read_holder(engine, project)
    if holder is None:
        return None
    if not force and not holder.is_stale():
        raise LockError(
            f"project {project!r} is locked by {holder}, and that run is not known to be gone "
            "(its pid still runs, or it holds the lock from another host). If you are sure it "
            f"is gone, run: volplan unlock {project} --force"
        )
    _release(engine, holder.container_id)
    return holder


def _release(engine: Engine, container_id: str) -> None:
    with suppress(EngineNotFound):  # released by force meanwhile: nothing of ours is left
        engine.remove_container(container_id)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _pid_runs(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
