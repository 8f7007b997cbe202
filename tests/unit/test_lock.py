"""The engine lock against the fake engine: test-and-set, waiting, holders, unlock."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from reconciler.apply import lock
from reconciler.apply.lock import LockHolder, engine_lock, read_holder, unlock
from reconciler.engine.base import ContainerCreate
from reconciler.engine.fake import FakeEngine
from reconciler.errors import LockError

IMAGES = {"busybox", "busybox:latest"}
LOCK_IMAGES = ("busybox:latest",)


def _hold(engine: FakeEngine, *, who: str, pid: int) -> None:
    labels = {
        lock.LOCK: "shop",
        lock.LOCK_ID: "abc",
        lock.LOCK_WHO: who,
        lock.LOCK_PID: str(pid),
        lock.LOCK_OPERATION: "apply",
        lock.LOCK_CREATED: "2026-01-01T00:00:00+00:00",
    }
    engine.create_container(ContainerCreate("volplan-lock-shop", "busybox", None, labels, ()))


def test_the_lock_is_a_labelled_container_while_held_and_gone_after() -> None:
    engine = FakeEngine(images=set(IMAGES))

    with engine_lock(
        engine, ["shop", "web"], images=LOCK_IMAGES, operation="apply", timeout=0, on_wait=print
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
            engine, ["shop"], images=LOCK_IMAGES, operation="apply", timeout=0, on_wait=print
        ),
    ):
        pass

    assert str(caught.value) == (
        "project 'shop' is locked by alice@laptop (pid 7, apply) since "
        "2026-01-01T00:00:00+00:00, lock id abc (waited 0s). If that run is gone, release the "
        "lock with: volplan unlock shop --force"
    )
    assert list(engine.containers) == ["0" * 64]


def test_a_waiting_run_takes_the_lock_once_it_is_released(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine(images=set(IMAGES))
    _hold(engine, who="alice@laptop", pid=7)
    seen: list[LockHolder] = []
    # lock.py waits with time.sleep: the wait ends once the holder is gone
    monkeypatch.setattr(time, "sleep", lambda seconds: engine.remove_container("volplan-lock-shop"))

    with engine_lock(
        engine, ["shop"], images=LOCK_IMAGES, operation="apply", timeout=60, on_wait=seen.append
    ):
        holder = read_holder(engine, "shop")
        assert holder is not None
        assert holder.pid == os.getpid()

    assert [h.who for h in seen] == ["alice@laptop"]


def test_unlock_releases_a_stale_lock_and_needs_force_otherwise() -> None:
    engine = FakeEngine(images=set(IMAGES))
    _hold(engine, who="alice@laptop", pid=7)

    with pytest.raises(LockError, match="not known to be gone"):
        unlock(engine, "shop", force=False)
    released = unlock(engine, "shop", force=True)

    assert released is not None
    assert released.who == "alice@laptop"
    assert unlock(engine, "shop", force=False) is None
    _hold(engine, who=f"me@{socket.gethostname()}", pid=2**22 + 1)  # no such pid here
    assert unlock(engine, "shop", force=False) is not None


def test_the_lock_image_falls_back_to_a_spec_image_and_fails_clearly_without_one() -> None:
    engine = FakeEngine(images=set(), pullable={"postgres:16"})

    assert lock.choose_image(engine, ["postgres:16"]) == "postgres:16"
    with pytest.raises(LockError, match="needs an image present on the engine"):
        lock.choose_image(FakeEngine(images=set()), [])


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
            engine, ["shop"], images=LOCK_IMAGES, operation="apply", timeout=0, on_wait=print
        ),
    ):
        os.kill(os.getpid(), signal.SIGTERM)

    assert caught.value.code == 143
    assert engine.containers == {}
    assert signal.getsignal(signal.SIGTERM) is before
