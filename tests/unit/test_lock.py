"""The engine lock against the fake engine: test-and-set, waiting, holders, unlock."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable

import pytest

from reconciler.apply import lock
from reconciler.apply.applier import ApplyReport
from reconciler.apply.interrupt import Interruption
from reconciler.apply.lock import LockHolder, engine_lock, read_holder, unlock
from reconciler.engine.base import DEFAULT_HELPER_IMAGE, ContainerCreate, ensure_image
from reconciler.engine.fake import FakeEngine
from reconciler.errors import ApplyError, Interrupted, LockError

real_sleep = time.sleep

IMAGES = {"busybox", "busybox:latest"}
LOCK_IMAGE = "busybox:latest"


DEAD_PID = 2**22 + 1  # above pid_max: no such process


def _dead_process() -> str:
    """Our own process identity with a pid that runs nowhere."""
    boot, namespace, _, started = lock._process_identity(os.getpid()).split("/")
    return f"{boot}/{namespace}/{DEAD_PID}/{started}"


def _hold(engine: FakeEngine, *, who: str, pid: int, process: str = "", lease: str = "") -> str:
    labels = {
        lock.LOCK: "shop",
        lock.LOCK_ID: "abc",
        lock.LOCK_WHO: who,
        lock.LOCK_PID: str(pid),
        lock.LOCK_OPERATION: "apply",
        lock.LOCK_CREATED: "2026-01-01T00:00:00+00:00",
        lock.LOCK_PROCESS: process,
        lock.LOCK_LEASE: lease,
    }
    return engine.create_container(
        ContainerCreate("volplan-lock-shop", "busybox", None, labels, ())
    )


def test_the_lock_is_a_labelled_container_while_held_and_gone_after() -> None:
    engine = FakeEngine(images=set(IMAGES))

    with engine_lock(
        engine, ["shop", "web"], image=LOCK_IMAGE, operation="apply", timeout=0, on_wait=print
    ):
        holder = read_holder(engine, "shop")
        assert holder is not None
        assert holder.host == socket.gethostname()
        assert (holder.pid, holder.operation) == (os.getpid(), "apply")
        assert read_holder(engine, "web") is not None

    assert engine.containers == {}


def test_a_held_lock_fails_naming_its_holder() -> None:
    engine = FakeEngine(images=set(IMAGES))
    _hold(engine, who="alice@laptop", pid=7)

    with (
        pytest.raises(LockError) as caught,
        engine_lock(
            engine, ["shop"], image=LOCK_IMAGE, operation="apply", timeout=0, on_wait=print
        ),
    ):
        pass

    assert str(caught.value) == (
        "project 'shop' is locked by alice@laptop (pid 7, apply) since "
        "2026-01-01T00:00:00+00:00, lock id abc (waited 0s). Run volplan apply again, or with "
        "--lock-timeout 35: if that run is gone, its lock frees itself 30s after its last "
        "renewal. Only if the engine cannot settle it, release it with: "
        "volplan unlock shop --force"
    )
    assert list(engine.containers) == ["0" * 64]


def test_a_waiting_run_takes_the_lock_once_it_is_released(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine(images=set(IMAGES))
    _hold(engine, who="alice@laptop", pid=7)
    seen: list[LockHolder] = []
    # lock.py waits with time.sleep: the wait ends once the holder is gone
    monkeypatch.setattr(time, "sleep", lambda seconds: engine.remove_container("volplan-lock-shop"))

    with engine_lock(
        engine, ["shop"], image=LOCK_IMAGE, operation="apply", timeout=60, on_wait=seen.append
    ):
        holder = read_holder(engine, "shop")
        assert holder is not None
        assert holder.pid == os.getpid()

    assert [h.who for h in seen] == ["alice@laptop"]


def test_a_stop_asked_from_the_main_thread_ends_a_wait_and_frees_the_locks_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = FakeEngine(images=set(IMAGES))
    _hold(engine, who="alice@laptop", pid=7)
    interruption = Interruption()
    monkeypatch.setattr(time, "sleep", lambda seconds: interruption.request(signal.SIGTERM))

    with (
        pytest.raises(Interrupted, match=r"^stopped by SIGTERM: waiting for the lock on project "),
        engine_lock(
            engine,
            ["a-first", "shop"],
            image=LOCK_IMAGE,
            operation="apply",
            timeout=60,
            on_wait=print,
            interruption=interruption,
        ),
    ):
        pass

    assert read_holder(engine, "a-first") is None  # taken, then released
    holder = read_holder(engine, "shop")
    assert holder is not None
    assert holder.who == "alice@laptop"


def test_unlock_releases_a_dead_holders_lock_and_needs_force_otherwise() -> None:
    engine = FakeEngine(images=set(IMAGES))
    _hold(engine, who="alice@laptop", pid=7)

    with pytest.raises(LockError, match="not known to be gone"):
        unlock(engine, "shop", force=False)
    released = unlock(engine, "shop", force=True)

    assert released is not None
    assert released.who == "alice@laptop"
    assert unlock(engine, "shop", force=False) is None
    _hold(engine, who=f"me@{socket.gethostname()}", pid=DEAD_PID, process=_dead_process())
    assert unlock(engine, "shop", force=False) is not None


def test_the_lock_imports_volplans_own_empty_image_when_missing() -> None:
    bare = FakeEngine(images=set())

    with engine_lock(
        bare, ["shop"], image=DEFAULT_HELPER_IMAGE, operation="apply", timeout=0, on_wait=print
    ):
        pass

    assert bare.mutations[0] == ("import_image", DEFAULT_HELPER_IMAGE)


def test_a_foreign_container_with_the_lock_name_is_an_error() -> None:
    engine = FakeEngine(images=set(IMAGES))
    engine.create_container(ContainerCreate("volplan-lock-shop", "busybox", None, {}, ()))

    with pytest.raises(LockError, match="is not a volplan lock"):
        read_holder(engine, "shop")


def test_sigterm_while_holding_the_lock_releases_it() -> None:
    engine = FakeEngine(images=set(IMAGES))
    before = signal.getsignal(signal.SIGTERM)

    with (
        pytest.raises(SystemExit) as caught,
        engine_lock(
            engine, ["shop"], image=LOCK_IMAGE, operation="apply", timeout=0, on_wait=print
        ),
    ):
        os.kill(os.getpid(), signal.SIGTERM)

    assert caught.value.code == 143
    assert engine.containers == {}
    assert signal.getsignal(signal.SIGTERM) is before


class StoppedWhileLocking(FakeEngine):
    """SIGTERM lands once the engine made the lock's container, before its ID is read."""

    def create_container(self, request: ContainerCreate) -> str:
        made = super().create_container(request)
        os.kill(os.getpid(), signal.SIGTERM)
        return made


def test_sigterm_while_the_lock_is_made_stops_the_run_once_it_can_release_it() -> None:
    engine = StoppedWhileLocking(images=set(IMAGES))
    with (
        pytest.raises(SystemExit),
        engine_lock(
            engine, ["shop"], image=LOCK_IMAGE, operation="apply", timeout=0, on_wait=print
        ),
    ):
        pytest.fail("the lock was taken")
    assert engine.containers == {}


class Clock:
    """A monotonic clock that only moves when the waiter sleeps."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, on_sleep: Callable[[], None]) -> None:
        self.now = 1000.0
        self.slept = 0.0
        self._on_sleep = on_sleep
        monkeypatch.setattr(time, "monotonic", lambda: self.now)
        monkeypatch.setattr(time, "sleep", self.sleep)

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        self._on_sleep()


def _take(engine: FakeEngine, timeout: float, seen: list[LockHolder] | None = None) -> None:
    with engine_lock(
        engine,
        ["shop"],
        image=LOCK_IMAGE,
        operation="apply",
        timeout=timeout,
        on_wait=(seen if seen is not None else []).append,
    ):
        holder = read_holder(engine, "shop")
        assert holder is not None
        assert holder.pid == os.getpid()


def test_a_lease_never_renewed_is_taken_over_once_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = FakeEngine(images=set(IMAGES))
    old = _hold(engine, who="alice@laptop", pid=7, lease="5")
    clock = Clock(monkeypatch, on_sleep=lambda: None)

    _take(engine, timeout=60)

    assert 5 < clock.slept <= 7  # judged on the waiter's own clock, from its first look
    assert ("remove_container", old) in engine.mutations


def test_a_renewing_holder_is_never_robbed(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine(images=set(IMAGES))
    old = _hold(engine, who="alice@laptop", pid=7, lease="3")
    beats = iter(range(1000))
    Clock(monkeypatch, on_sleep=lambda: engine.put_file(old, "/volplan-lease", b"%d" % next(beats)))

    with pytest.raises(LockError, match="is locked by alice@laptop"):
        _take(engine, timeout=60)

    assert ("remove_container", old) not in engine.mutations


def test_a_dead_holder_on_this_machine_frees_its_lock_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = FakeEngine(images=set(IMAGES))
    _hold(engine, who="me@here", pid=DEAD_PID, process=_dead_process())
    clock = Clock(monkeypatch, on_sleep=lambda: None)

    _take(engine, timeout=0)

    assert clock.slept == 0


def test_a_live_holder_on_this_machine_is_not_dead() -> None:
    engine = FakeEngine(images=set(IMAGES))
    _hold(engine, who="me@here", pid=os.getpid(), process=lock._process_identity(os.getpid()))

    holder = read_holder(engine, "shop")

    assert holder is not None
    assert not holder.is_dead()


def test_a_second_waiter_that_judged_the_same_lease_cannot_remove_the_new_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Take-over removes by ID: a late waiter's remove finds nothing, its create conflicts."""
    engine = FakeEngine(images=set(IMAGES))
    old = _hold(engine, who="alice@laptop", pid=7, lease="2")
    Clock(monkeypatch, on_sleep=lambda: None)

    with engine_lock(
        engine, ["shop"], image=LOCK_IMAGE, operation="apply", timeout=60, on_wait=print
    ):
        lock._release(engine, old)  # what the late waiter does with the lease it judged
        holder = read_holder(engine, "shop")
        assert holder is not None
        assert holder.pid == os.getpid()


def _taken_over_meanwhile(engine: FakeEngine) -> None:
    """The lock vanishes under a running holder, which then works on for 5 s."""
    engine.remove_container("volplan-lock-shop")
    for _ in range(50):
        real_sleep(0.1)


def test_a_holder_that_lost_its_lock_stops_with_a_lock_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(lock.LEASE_ENV, "1")
    engine = FakeEngine(images=set(IMAGES))

    with (
        pytest.raises(LockError, match="lost the lock on project shop"),
        engine_lock(
            engine, ["shop"], image=LOCK_IMAGE, operation="apply", timeout=0, on_wait=print
        ),
    ):
        _taken_over_meanwhile(engine)


def test_a_fleet_target_that_lost_its_lock_stops_alone_with_a_lock_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a target's thread the loss stops that target's own interruption, not the main
    thread (nor the other targets): its work stops at its next check."""
    monkeypatch.setenv(lock.LEASE_ENV, "1")
    engine = FakeEngine(images=set(IMAGES))
    run = Interruption()
    target, other = run.child(), run.child()
    raised: list[BaseException] = []

    def hold() -> None:
        try:
            with engine_lock(
                engine,
                ["shop"],
                image=LOCK_IMAGE,
                operation="apply",
                timeout=0,
                on_wait=print,
                interruption=target,
            ):
                engine.remove_container("volplan-lock-shop")
                while not target.requested():
                    real_sleep(0.05)
                target.check("the rest of the plan")
        except LockError as exc:
            raised.append(exc)

    thread = threading.Thread(target=hold)
    thread.start()
    thread.join(timeout=10)

    assert [str(e).split(":")[0] for e in raised] == ["lost the lock on project shop"]
    assert not run.requested()
    assert not other.requested()


def test_the_holder_renews_its_lease_and_declares_its_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(lock.LEASE_ENV, "1")
    engine = FakeEngine(images=set(IMAGES))

    with engine_lock(
        engine, ["shop"], image=LOCK_IMAGE, operation="apply", timeout=0, on_wait=print
    ):
        real_sleep(0.6)
        holder = read_holder(engine, "shop")
        assert holder is not None
        assert holder.lease_seconds == 1
        assert lock.read_lease(engine, holder) not in {None, b""}  # renewed at 0.25 s

    renewals = [call for call in engine.mutations if call[0] == "put_file"]
    assert len(renewals) >= 2


@pytest.mark.parametrize("raw", ["0.5", "soon", "-3", "nan", "inf"])
def test_a_bad_lease_setting_is_refused(raw: str) -> None:
    with pytest.raises(LockError, match="at least 1"):
        lock.lease_seconds({lock.LEASE_ENV: raw})


def test_volplans_helper_image_is_imported_and_any_other_pulled() -> None:
    engine = FakeEngine(images=set(), pullable={"busybox:latest"})

    ensure_image(engine, DEFAULT_HELPER_IMAGE, print)
    ensure_image(engine, "busybox:latest", print)
    ensure_image(engine, DEFAULT_HELPER_IMAGE, print)

    assert engine.mutations == [
        ("import_image", DEFAULT_HELPER_IMAGE),
        ("pull_image", "busybox:latest"),
    ]


def test_a_failure_after_the_lock_was_taken_over_is_reported_as_the_lost_lock() -> None:
    """A holder frozen past its lease fails on what the run that took over changed, before
    its renewal (30 s here) notices: the release finds the lock gone and says so."""
    engine = FakeEngine(images=set(IMAGES))

    with (
        pytest.raises(LockError, match="lost the lock on project shop") as raised,
        engine_lock(
            engine, ["shop"], image=LOCK_IMAGE, operation="apply", timeout=0, on_wait=print
        ),
    ):
        _fail_after_a_takeover(engine)

    assert isinstance(raised.value.__cause__, ApplyError)


def _fail_after_a_takeover(engine: FakeEngine) -> None:
    engine.remove_container("volplan-lock-shop")
    raise ApplyError("renaming container app: no such container", ApplyReport())
