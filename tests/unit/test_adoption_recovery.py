"""An adoption cut short is finished or rolled back only on proof; a stranger's container
that merely has a recreate's leftover name is left alone (recovery.py)."""

from __future__ import annotations

from reconciler import labels
from reconciler.model import EngineInfo, LiveContainer, LiveState
from reconciler.plan.actions import FinishRecreate
from reconciler.plan.recovery import plan_recovery

ENGINE = EngineInfo("unix:///x.sock", "ID", "vm", "20.10", "1.41", is_local=True)
OLD = LiveContainer("old-id", "app_volplan-old", "busybox", "exited", {}, ())


def _recovered(*containers: LiveContainer) -> list[tuple[str, bool]]:
    live = LiveState(ENGINE, {}, {c.name: c for c in containers})
    recovery = plan_recovery(live, ("shop",), ("app",))
    return [(a.name, a.roll_back) for a in recovery.actions if isinstance(a, FinishRecreate)]


def test_the_set_aside_container_is_removed_once_the_new_one_names_it() -> None:
    new = LiveContainer("new-id", "app", "busybox", "running", {labels.ADOPTED_FROM: "old-id"}, ())
    assert _recovered(OLD, new) == [("app", False)]


def test_with_no_container_of_the_name_the_set_aside_one_gets_it_back() -> None:
    assert _recovered(OLD) == [("app", True)]


def test_a_strangers_container_with_a_leftover_name_is_left_alone() -> None:
    labelled = {labels.PROJECT: "shop"}
    managed = LiveContainer("app-id", "app", "busybox", "running", labelled, ())
    adopted_other = LiveContainer(
        "app-id", "app", "busybox", "running", {**labelled, labels.ADOPTED_FROM: "x"}, ()
    )
    assert _recovered(OLD, managed) == []
    assert _recovered(OLD, adopted_other) == []
