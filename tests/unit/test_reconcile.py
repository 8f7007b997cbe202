"""The pure stages end to end against the in-memory fake engine: plan, apply, converge."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from reconciler import labels
from reconciler.apply.applier import ApplyOptions, apply_plan
from reconciler.diff.differ import Status, diff_states
from reconciler.engine.fake import FAKE_INFO, FakeEngine
from reconciler.errors import ApplyError, EngineConflict, PlanError, RefusedError
from reconciler.fieldpath import format_path
from reconciler.live.reader import read_live_state
from reconciler.model import DesiredState, EngineInfo, LiveContainer, LiveMount
from reconciler.plan.actions import (
    CreateContainer,
    Plan,
    RecreateContainer,
    StartContainer,
    StopContainer,
)
from reconciler.plan.planner import make_plan
from specs import ALLOW_DATA_LOSS, desired_from, key_of, requires_of

BASE = """
version: 1
project: webapp
volumes:
  webapp-data: {labels: {team: web}}
containers:
  dbstore:
    image: busybox
    command: [/bin/true]
    state: created
    mounts: [/dbdata]
  web:
    image: busybox
    command: [sleep, "3600"]
    mounts: ["webapp-data:/webapp", "/src/webapp:/opt/webapp:ro"]
    volumes_from: ["dbstore:ro"]
  worker:
    image: busybox
    mounts: ["webapp-data:/work:ro"]
"""


def plan_for(desired: DesiredState, engine: FakeEngine) -> Plan:
    live = read_live_state(engine)
    return make_plan(desired, live, diff_states(desired, live))


def converge(text: str, engine: FakeEngine) -> Plan:
    desired = desired_from(text)
    plan = plan_for(desired, engine)
    apply_plan(plan, engine, options=ALLOW_DATA_LOSS)
    return plan


def shape(plan: Plan) -> list[str]:
    return [key_of(a) for a in plan.actions]


def test_from_empty_creates_volumes_first_then_containers_in_dependency_order() -> None:
    plan = plan_for(desired_from(BASE), FakeEngine())

    assert shape(plan) == [
        "volume.webapp-data:create",
        "container.dbstore:create",
        "container.web:create",
        "container.worker:create",
    ]
    web = plan.actions[2]
    assert requires_of(web) == ("container.dbstore:create", "volume.webapp-data:create")


def test_a_second_plan_is_empty_and_a_second_apply_makes_no_mutating_call() -> None:
    engine = FakeEngine()
    converge(BASE, engine)
    engine.calls.clear()

    second = converge(BASE, engine)

    assert second.actions == ()
    assert engine.mutations == []
    assert sorted(engine.calls) == [
        ("info", ""),
        ("list_containers", ""),
        ("list_images", ""),
        ("list_volumes", ""),
    ]


def test_everything_created_carries_project_and_config_hash() -> None:
    engine = FakeEngine()
    converge(BASE, engine)

    volume = engine.volumes["webapp-data"]["Labels"]
    assert volume[labels.PROJECT] == "webapp"
    assert volume[labels.CONFIG_HASH]
    for container in engine.containers.values():
        assert container["Labels"][labels.PROJECT] == "webapp"
        assert container["Labels"][labels.CONFIG_HASH]


def test_flipping_read_only_recreates_only_that_container_with_field_detail() -> None:
    engine = FakeEngine()
    converge(BASE, engine)

    plan = converge(BASE.replace("webapp-data:/work:ro", "webapp-data:/work"), engine)

    assert shape(plan) == ["container.worker:recreate"]
    (action,) = plan.actions
    assert isinstance(action, RecreateContainer)
    assert [(format_path(c.path), c.before, c.after) for c in action.changes] == [
        ("mounts[/work].read_only", True, False)
    ]
    assert plan_for(desired_from(BASE.replace(":/work:ro", ":/work")), engine).actions == ()


def test_recreating_a_data_volume_container_keeps_its_anonymous_volume() -> None:
    engine = FakeEngine()
    converge(BASE, engine)
    (anonymous,) = [n for n in engine.volumes if n != "webapp-data"]

    plan = converge(BASE.replace("[/bin/true]", "[/bin/sh]"), engine)

    assert shape(plan) == ["container.dbstore:recreate"]
    dbstore = next(c for c in engine.containers.values() if c["Names"] == ["/dbstore"])
    assert [m["Name"] for m in dbstore["Mounts"]] == [anonymous]
    assert set(engine.volumes) == {"webapp-data", anonymous}


def test_a_new_mount_on_the_source_cascades_to_its_volumes_from_user() -> None:
    engine = FakeEngine()
    converge(BASE, engine)

    plan = converge(BASE.replace("mounts: [/dbdata]", "mounts: [/dbdata, /logs]"), engine)

    assert shape(plan) == ["container.dbstore:recreate", "container.web:recreate"]
    assert requires_of(plan.actions[1]) == ("container.dbstore:recreate",)


def test_wrong_run_state_is_fixed_in_place() -> None:
    engine = FakeEngine()
    converge(BASE, engine)
    web = next(c for c in engine.containers.values() if c["Names"] == ["/web"])
    web["State"] = "exited"

    plan = converge(
        BASE.replace(
            "  worker:\n    image: busybox\n", "  worker:\n    image: busybox\n    state: created\n"
        ),
        engine,
    )

    assert [type(a) for a in plan.actions] == [StartContainer, StopContainer]
    assert web["State"] == "running"


def test_changed_volume_is_a_destructive_replacement_that_frees_it_first() -> None:
    engine = FakeEngine()
    converge(BASE, engine)

    plan = plan_for(desired_from(BASE.replace("team: web", "team: ops")), engine)

    assert shape(plan) == [
        "container.web:remove",
        "container.worker:remove",
        "volume.webapp-data:replace",
        "container.web:create",
        "container.worker:create",
    ]
    assert plan.destructive == (plan.actions[2],)
    assert requires_of(plan.actions[2]) == ("container.web:remove", "container.worker:remove")
    apply_plan(plan, engine, options=ALLOW_DATA_LOSS)
    assert engine.volumes["webapp-data"]["Labels"]["team"] == "ops"
    assert plan_for(desired_from(BASE.replace("team: web", "team: ops")), engine).actions == ()


def test_unlabelled_matching_volume_is_adopted_and_a_differing_one_is_a_conflict() -> None:
    engine = FakeEngine()
    engine.volumes["webapp-data"] = {
        "Name": "webapp-data",
        "Driver": "local",
        "Labels": {"team": "web"},
    }
    desired = desired_from(BASE)
    assert (
        diff_states(desired, read_live_state(engine)).volumes["webapp-data"].status
        is Status.ADOPTED
    )
    assert "volume.webapp-data:create" not in shape(plan_for(desired, engine))

    engine.volumes["webapp-data"]["Labels"] = {}
    with pytest.raises(PlanError, match="was not created by volplan, and differs"):
        plan_for(desired, engine)


def test_missing_external_volume_stops_the_plan() -> None:
    desired = desired_from(
        BASE.replace("webapp-data: {labels: {team: web}}", "webapp-data: {external: true}")
    )

    with pytest.raises(PlanError, match="external volume does not exist"):
        plan_for(desired, FakeEngine())


def test_name_filter_is_exact_so_a_longer_name_is_not_taken_for_the_volume() -> None:
    engine = FakeEngine()
    engine.volumes["webapp-data-old"] = {"Name": "webapp-data-old", "Driver": "local"}

    assert "volume.webapp-data:create" in shape(plan_for(desired_from(BASE), engine))


def test_a_failed_recreate_puts_the_old_container_back() -> None:
    engine = FakeEngine()
    converge(BASE, engine)

    def refuse_create(method: str, subject: str) -> None:
        if method == "create_container":
            raise EngineConflict("creating container worker: injected")

    engine.fault = refuse_create
    with pytest.raises(ApplyError) as caught:
        converge(BASE.replace("webapp-data:/work:ro", "webapp-data:/work"), engine)

    assert caught.value.report.done == ()
    names = sorted(c["Names"][0] for c in engine.containers.values())
    assert names == ["/dbstore", "/web", "/worker"]
    worker = next(c for c in engine.containers.values() if c["Names"] == ["/worker"])
    assert worker["State"] == "running"


def test_apply_runs_only_independent_actions_after_a_failure_and_reports_them() -> None:
    engine = FakeEngine()

    def refuse_web(method: str, subject: str) -> None:
        if (method, subject) == ("create_container", "web"):
            raise EngineConflict("creating container web: name already in use")

    engine.fault = refuse_web
    with pytest.raises(ApplyError) as caught:
        converge(BASE, engine)

    report = caught.value.report
    assert [key_of(r.action) for r in report.done] == [
        "volume.webapp-data:create",
        "container.dbstore:create",
        "container.worker:create",  # does not depend on web
    ]
    assert report.failed is not None
    assert "name already in use" in str(report.failed.error)
    assert report.not_done == ()
    assert isinstance(report.failed.action, CreateContainer)


def test_a_missing_image_is_pulled_before_anything_changes() -> None:
    engine = FakeEngine(images=set(), pullable={"busybox"})
    converge(BASE, engine)
    assert engine.mutations[0] == ("pull_image", "busybox")

    broken = FakeEngine(images=set())
    with pytest.raises(Exception, match="pulling image busybox"):
        converge(BASE, broken)
    assert [m for m in broken.mutations if m[0] != "pull_image"] == []


def test_the_applier_itself_refuses_data_loss() -> None:
    engine = FakeEngine()
    converge(BASE, engine)
    plan = plan_for(desired_from(BASE.replace("team: web", "team: ops")), engine)
    before = list(engine.mutations)

    with pytest.raises(RefusedError) as caught:
        apply_plan(plan, engine, options=ApplyOptions())
    with pytest.raises(RefusedError, match="make the plan again with --allow-data-loss"):
        apply_plan(plan, engine, options=ApplyOptions(saved_plan=True))

    assert str(caught.value) == (
        "refusing to destroy data: volume.webapp-data (replace) would lose its content. "
        "Back it up, then re-run with --allow-data-loss (or, for a replaced volume, with "
        "--migrate, which keeps its content)."
    )
    assert engine.mutations == before


SHARED_BIND = """
version: 1
project: cfg
containers:
  config:
    image: busybox
    mounts: ["/src/cfg:/etc/app:ro", "/data"]
  reader:
    image: busybox
    volumes_from: ["config:ro"]
"""


@dataclass
class PodmanListing(FakeEngine):
    """Lists a volumes_from consumer as Podman 4.3 does: without the binds it inherits
    (inherited volumes it lists); ``podman`` says whether ``info`` names it Podman."""

    podman: bool = True

    def info(self) -> EngineInfo:
        self._record("info", mutating=False)
        return replace(FAKE_INFO, daemon_id="podman:fake:/root" if self.podman else "ID")

    def list_containers(self) -> list[LiveContainer]:
        return [replace(c, mounts=self._own(c)) for c in super().list_containers()]

    def _own(self, container: LiveContainer) -> tuple[LiveMount, ...]:
        sources = [entry.partition(":")[0] for entry in self.volumes_from.get(container.id, [])]
        inherited = {
            mount["Destination"]
            for source in sources
            for mount in self._get(source, "listing")["Mounts"]
            if mount["Type"] == "bind"
        }
        return tuple(m for m in container.mounts if m.target not in inherited)


@pytest.mark.parametrize("podman", [True, False])
def test_binds_inherited_through_volumes_from_are_read_from_the_source_on_podman(
    podman: bool,
) -> None:
    """On Podman the differ takes the reader's inherited bind from the live ``config``; an
    engine that is not Podman and lists no such bind has lost it: a recreate."""
    engine = PodmanListing(podman=podman)
    converge(SHARED_BIND, engine)

    again = plan_for(desired_from(SHARED_BIND), engine)

    assert shape(again) == ([] if podman else ["container.reader:recreate"])
