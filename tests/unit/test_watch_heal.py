"""A watch's heal under the engine lock, against the fake engine: a lock lost stops that
heal alone. A watch of several targets heals each in a thread of its own, and a lost lock
used to interrupt the main thread, which stopped the watch of every target."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from reconciler.apply import lock
from reconciler.engine.base import VolumeCreate
from reconciler.engine.fake import FakeEngine
from reconciler.pipeline import load
from reconciler.watch.loop import TargetWatch, WatchSettings
from reconciler.watch.metrics import WatchMetrics

SPEC = "version: 1\nproject: shop\nvolumes:\n  data: {}\n  logs: {}\n"


class TakenOverMidHeal(FakeEngine):
    """Another run takes the lock over while the first volume is created: the create
    waits until the holder's lease renewal has found its lock gone."""

    def create_volume(self, request: VolumeCreate) -> None:
        if self.containers and self._find("volplan-lock-shop") is not None:
            self.remove_container("volplan-lock-shop")
            time.sleep(2 * lock.MIN_LEASE_SECONDS / lock.RENEWALS_PER_LEASE + 0.2)
        super().create_volume(request)


def test_a_lock_lost_in_a_targets_heal_stops_that_heal_not_the_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(lock.LEASE_ENV, str(lock.MIN_LEASE_SECONDS))
    (tmp_path / "shop.yaml").write_text(SPEC)
    specs = load(tmp_path)
    engine = TakenOverMidHeal(images={"busybox", "busybox:latest"})
    settings = WatchSettings(tmp_path, lambda: specs, self_heal=True, interval=60)
    logs: list[str] = []
    watch = TargetWatch(
        "edge",
        lambda: engine,
        specs,
        settings,
        WatchMetrics(),
        log=logs.append,
        emit=lambda line: None,
        stop=threading.Event(),
    )
    healed: list[bool] = []
    heal = threading.Thread(target=lambda: healed.append(watch._heal(engine, None, report=False)))

    heal.start()
    heal.join(timeout=10)

    assert healed == [False]
    assert [line.split(":")[0] for line in logs if "not healing yet" in line] == [
        "[edge] not healing yet"
    ]
    assert any("lost the lock on project shop" in line for line in logs)
    assert engine.list_containers() == []  # no lock of this heal's left behind
