"""Prune and protection against the fake engine: exactly the labelled leftovers, safely."""

from __future__ import annotations

import pytest

from reconciler import labels
from reconciler.apply.applier import apply_plan
from reconciler.diff.differ import diff_states
from reconciler.engine.base import ContainerCreate, VolumeCreate
from reconciler.engine.fake import FakeEngine
from reconciler.errors import PlanError
from reconciler.live.reader import read_live_state
from reconciler.model import DesiredState, Mount, MountKind
from reconciler.plan.actions import RemoveVolume
from reconciler.plan.options import PlanOptions
from reconciler.plan.planner import make_plan
from specs import ALLOW_DATA_LOSS, desired_from, key_of, requires_of

BEFORE = """
version: 1
project: shop
volumes:
  keep: {}
  old: {}
  vault: {protect: true}
  held: {}
containers:
  app: {image: busybox, mounts: ["keep:/keep", "old:/old"]}
  retired: {image: busybox, mounts: ["old:/also-old"]}
"""

AFTER = """
version: 1
project: shop
volumes:
  keep: {}
containers:
  app: {image: busybox, mounts: ["keep:/keep"]}
"""


def _converged(text: str) -> FakeEngine:
    engine = FakeEngine()
    desired = desired_from(text)
    live = read_live_state(engine)
    apply_plan(
        make_plan(desired, live, diff_states(desired, live)), engine, options=ALLOW_DATA_LOSS
    )
    return engine


def _plan(desired: DesiredState, engine: FakeEngine, *, prune: bool) -> tuple[list[str], list[str]]:
    live = read_live_state(engine)
    plan = make_plan(desired, live, diff_states(desired, live), PlanOptions(prune=prune))
    return [key_of(a) for a in plan.actions], [f"{n.address}: {n.message}" for n in plan.notes]


def test_prune_removes_labelled_leftovers_after_the_containers_that_held_them() -> None:
    engine = _converged(BEFORE)
    engine.create_volume(VolumeCreate("mine", "local", {}, {}))
    engine.create_container(
        ContainerCreate("holder", "busybox", None, {}, (Mount("/h", MountKind.VOLUME, "held"),))
    )

    keys, notes = _plan(desired_from(AFTER), engine, prune=True)

    assert keys == [
        "container.app:recreate",
        "container.retired:remove",
        "volume.old:remove",
    ]
    assert notes == [
        "volume.held: kept: in use by container holder",
        "volume.vault: kept: it is protected (io.volplan.protect); never pruned",
    ]


def test_a_pruned_volume_waits_for_every_action_that_frees_it() -> None:
    engine = _converged(BEFORE)
    live = read_live_state(engine)
    desired = desired_from(AFTER)

    plan = make_plan(desired, live, diff_states(desired, live), PlanOptions(prune=True))

    removals = {a.name: requires_of(a) for a in plan.actions if isinstance(a, RemoveVolume)}
    assert removals == {
        "held": (),
        "old": ("container.app:recreate", "container.retired:remove"),
    }
    apply_plan(plan, engine, options=ALLOW_DATA_LOSS)
    assert sorted(engine.volumes) == ["keep", "vault"]


def test_without_prune_nothing_is_removed() -> None:
    engine = _converged(BEFORE)

    keys, notes = _plan(desired_from(AFTER), engine, prune=False)

    assert keys == ["container.app:recreate"]
    assert notes == []


def test_other_projects_and_declared_anonymous_volumes_are_not_leftovers() -> None:
    spec = "version: 1\nproject: shop\ncontainers:\n  data: {image: busybox, mounts: [/d]}\n"
    engine = _converged(spec)
    engine.create_volume(VolumeCreate("theirs", "local", {}, {labels.PROJECT: "other"}))
    engine.stop_container("data", None)
    engine.remove_container("data")  # its anonymous volume is reused when it is made again

    keys, _ = _plan(desired_from(spec), engine, prune=True)

    assert keys == ["container.data:create"]


@pytest.mark.parametrize(
    ("spec_protect", "live_label"),
    [(True, {}), (False, {labels.PROTECT: "true"})],
    ids=["protected-in-spec", "protected-by-live-label"],
)
def test_a_protected_volume_is_never_replaced(
    spec_protect: bool, live_label: dict[str, str]
) -> None:
    engine = FakeEngine()
    engine.create_volume(VolumeCreate("vault", "local", {}, {labels.PROJECT: "shop", **live_label}))
    protect = "protect: true, " if spec_protect else ""
    desired = desired_from(
        f"version: 1\nproject: shop\nvolumes:\n  vault: {{{protect}labels: {{tier: gold}}}}\n"
    )
    live = read_live_state(engine)

    with pytest.raises(PlanError, match="protected volumes replaced, which volplan never does"):
        make_plan(desired, live, diff_states(desired, live), PlanOptions(allow_data_loss=True))
