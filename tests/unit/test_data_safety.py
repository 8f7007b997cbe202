"""Crash recovery, migration planning, backups, retries and manifests, without an engine."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import replace

import pytest
from support.gitops import validate

from reconciler import labels
from reconciler.apply.applier import apply_plan
from reconciler.content.volume_io import manifest_of
from reconciler.engine.base import VolumeCreate
from reconciler.engine.fake import FAKE_INFO, FakeEngine
from reconciler.engine.retry import RetryingEngine
from reconciler.errors import (
    ApplyError,
    EngineConflict,
    EngineServerError,
    EngineTimeout,
    PlanError,
)
from reconciler.live.reader import read_live_state
from reconciler.model import DesiredState, EngineInfo, LiveContainer
from reconciler.pipeline import Planned, Specs
from reconciler.pipeline import plan as plan_specs
from reconciler.plan.actions import BackupVolume, Plan, ReplaceVolume, action_key
from reconciler.plan.data_safety import plan_backups
from reconciler.plan.document import dumps, plan_document
from reconciler.plan.migration import MigrationOptions, plan_migrations
from reconciler.plan.options import PlanOptions
from specs import ALLOW_DATA_LOSS, desired_from, key_of, requires_of

V1 = """
version: 1
project: shop
volumes:
  data: {labels: {rev: "1"}}
containers:
  store:
    image: busybox
    state: created
    mounts: ["data:/data", /anon]
  app:
    image: busybox
    volumes_from: [store]
    environment: {APP: "1"}
  side:
    image: busybox
    environment: {SIDE: "1"}
"""
V2 = V1.replace('APP: "1"', 'APP: "2"').replace('SIDE: "1"', 'SIDE: "2"')
V1_NEW_SIDE = V1.replace('SIDE: "1"', 'SIDE: "2"')


class Killed(BaseException):
    """Stands for SIGKILL: nothing in volplan catches it."""


def plan_desired(
    desired: DesiredState, engine: FakeEngine, options: PlanOptions | None = None
) -> Planned:
    return plan_specs(Specs((), desired), engine, options)


def converge(text: str, engine: FakeEngine, options: PlanOptions | None = None) -> Plan:
    plan = plan_desired(desired_from(text), engine, options).plan
    apply_plan(plan, engine, options=ALLOW_DATA_LOSS)
    return plan


def keys(plan: Plan) -> list[str]:
    return [key_of(a) for a in plan.actions]


def kill_after(calls: int) -> object:
    count = iter(range(calls))

    def fault(method: str, subject: str) -> None:
        if next(count, None) is None:
            raise Killed

    return fault


def test_recreates_killed_at_every_call_converge_and_keep_every_volume() -> None:
    calls, completed = -1, False
    while not completed:
        calls += 1
        engine = FakeEngine()
        converge(V1, engine)
        volumes = set(engine.volumes)
        engine.fault = kill_after(calls)  # type: ignore[assignment]
        try:
            converge(V2, engine)
            completed = True
        except Killed:
            engine.fault = None

        converge(V2, engine)

        assert keys(plan_desired(desired_from(V2), engine).plan) == [], calls
        assert set(engine.volumes) == volumes, calls
        names = sorted(c["Names"][0] for c in engine.containers.values())
        assert names == ["/app", "/side", "/store"], calls
    assert calls == 10  # two recreates of five calls each: the run with 10 was not cut short


def test_the_plan_rolls_back_a_recreate_cut_off_after_the_rename() -> None:
    engine = FakeEngine()
    converge(V1, engine)
    engine.fault = kill_after(2)  # type: ignore[assignment]  # side's recreate: stop, rename
    with pytest.raises(Killed):
        converge(V1_NEW_SIDE, engine)
    engine.fault = None

    plan = plan_desired(desired_from(V1_NEW_SIDE), engine).plan

    first = plan.actions[0]
    assert key_of(first) == "container.side:roll_back"
    assert first.reason.startswith("interrupted recreate of side found; will roll it back")
    assert all(action_key(first) in a.requires for a in plan.actions[1:])


def test_the_plan_finishes_a_recreate_whose_new_container_exists_and_removes_helpers() -> None:
    engine = FakeEngine()
    converge(V1, engine)
    engine.fault = kill_after(3)  # type: ignore[assignment]  # side: stop, rename, create
    with pytest.raises(Killed):
        converge(V1_NEW_SIDE, engine)
    engine.fault = None
    engine.containers["h"] = {
        "Id": "h",
        "Names": ["/volplan-helper-1"],
        "Image": "busybox",
        "State": "created",
        "Labels": {labels.HELPER: "copy"},
        "Mounts": [],
    }

    plan = plan_desired(desired_from(V1_NEW_SIDE), engine).plan

    assert keys(plan)[:2] == ["container.side:finish", "container.volplan-helper-1:remove"]
    assert "will finish it" in plan.actions[0].reason
    assert "container.side:start" in keys(plan)


def refusing(call: tuple[str, str]) -> Callable[[str, str], None]:
    """A fault that makes the engine refuse one call with a conflict."""

    def fault(method: str, subject: str) -> None:
        if (method, subject) == call:
            raise EngineConflict(f"{method} {subject}: injected conflict")

    return fault


def test_after_a_failure_its_dependents_are_not_done_the_others_are() -> None:
    engine = FakeEngine(fault=refusing(("create_container", "store")))

    with pytest.raises(ApplyError) as caught:
        converge(V1, engine)

    report = caught.value.report
    done = [key_of(r.action) for r in report.done]
    assert done == ["volume.data:create", "container.side:create"]
    assert [key_of(a) for a in report.not_done] == ["container.app:create"]


def _with_temporary(engine: FakeEngine, *, recorded_hash: str) -> None:
    engine.create_volume(
        VolumeCreate(
            name="data_volplan-migrate",
            driver="local",
            driver_opts={},
            labels={labels.MIGRATION_OF: "data", labels.MIGRATION_FROM: recorded_hash},
        )
    )


def _migration_keys(text: str, engine: FakeEngine, *, migrate: bool) -> list[str]:
    options = PlanOptions(migrate=migrate)
    return keys(plan_desired(desired_from(text), engine, options).plan)


V1_NEW_LABELS = V1.replace('rev: "1"', 'rev: "2"')


def test_migrate_turns_a_replacement_into_copy_replace_copy_back_remove() -> None:
    engine = FakeEngine()
    converge(V1, engine)

    assert _migration_keys(V1_NEW_LABELS, engine, migrate=True) == [
        "container.app:remove",
        "container.store:remove",
        "volume.data_volplan-migrate:copy",
        "volume.data:replace",
        "volume.data:copy",
        "volume.data_volplan-migrate:remove",
        "container.store:create",
        "container.app:create",
    ]


def test_a_partial_copy_is_made_again_while_the_volume_is_intact() -> None:
    engine = FakeEngine()
    converge(V1, engine)
    old_hash = engine.volumes["data"]["Labels"][labels.CONFIG_HASH]
    _with_temporary(engine, recorded_hash=old_hash)

    plan = plan_desired(desired_from(V1_NEW_LABELS), engine, PlanOptions(migrate=True)).plan
    save = next(a for a in plan.actions if key_of(a) == "volume.data_volplan-migrate:copy")
    assert save.fresh_target  # type: ignore[union-attr]
    # Without --migrate, the partial copy is dropped and the replacement refused as usual.
    assert "volume.data_volplan-migrate:remove" in _migration_keys(V1, engine, migrate=False)


def test_a_saved_copy_is_copied_back_when_the_volume_was_already_replaced_or_removed() -> None:
    engine = FakeEngine()
    converge(V1, engine)
    _with_temporary(engine, recorded_hash="the hash data had before")

    # data was replaced already (its hash differs from the recorded one): resume, no --migrate.
    resumed = _migration_keys(V1, engine, migrate=False)
    assert resumed[:2] == ["volume.data:copy", "volume.data_volplan-migrate:remove"]

    engine.containers.clear()
    engine.remove_volume("data")
    recreated = _migration_keys(V1, engine, migrate=False)
    assert recreated[:3] == [
        "volume.data:create",
        "volume.data:copy",
        "volume.data_volplan-migrate:remove",
    ]
    plan = plan_desired(desired_from(V1), engine).plan
    store = next(a for a in plan.actions if key_of(a) == "container.store:create")
    assert "volume.data_volplan-migrate:remove" in requires_of(store)


def test_backups_go_right_before_each_replacement_and_are_waited_for() -> None:
    engine = FakeEngine()
    converge(V1, engine)
    live = read_live_state(engine)
    plan = plan_desired(desired_from(V1_NEW_LABELS), engine).plan

    backed = plan_backups(plan, "/backups", "busybox")

    index = next(i for i, a in enumerate(backed.actions) if isinstance(a, ReplaceVolume))
    backup = backed.actions[index - 1]
    assert isinstance(backup, BackupVolume)
    original = next(a for a in plan.actions if isinstance(a, ReplaceVolume))
    assert (
        requires_of(backup)
        == requires_of(original)
        == ("container.app:remove", "container.store:remove")
    )
    assert action_key(backup) in backed.actions[index].requires
    # Without --migrate and with no interrupted migration, the plan is left as it is.
    assert plan_migrations(plan, live, MigrationOptions(False, "busybox")) == plan


class FlakyReads(FakeEngine):
    failures: int = 2

    def list_containers(self) -> list[LiveContainer]:
        if self.failures:
            self.failures -= 1
            raise EngineServerError("listing containers: injected 500")
        return super().list_containers()


def test_reads_and_starts_are_retried_creates_are_not() -> None:
    engine = FlakyReads()
    engine.create_volume(VolumeCreate("data", "local", {}, {}))
    retrying = RetryingEngine(engine, sleep=lambda seconds: None)
    assert retrying.list_containers() == []  # after two 500s

    def time_out(method: str, subject: str) -> None:
        raise EngineTimeout(f"{method} {subject}: injected")

    engine.fault = time_out
    with pytest.raises(EngineTimeout):
        retrying.start_container("nothing")
    with pytest.raises(EngineTimeout):
        retrying.remove_volume("data")

    assert engine.mutations.count(("start_container", "nothing")) == 4  # the bounded retries
    assert engine.mutations.count(("remove_volume", "data")) == 1  # never retried


def _tar(entries: list[tuple[str, bytes | None, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_manifests_ignore_order_but_not_content_or_modes() -> None:
    tree = [("v", None, 0o755), ("v/a", b"alpha", 0o644), ("v/b", b"beta", 0o600)]
    same = manifest_of([_tar(tree)])

    assert manifest_of([_tar(list(reversed(tree)))]) == same
    assert (same.entries, same.content_bytes) == (3, 9)
    assert manifest_of([_tar([*tree[:2], ("v/b", b"beta", 0o644)])]) != same
    assert manifest_of([_tar([*tree[:2], ("v/b", b"bet4", 0o600)])]) != same


def test_a_migration_with_backups_and_recovery_is_a_valid_json_plan() -> None:
    engine = FakeEngine()
    converge(V1, engine)
    engine.fault = kill_after(2)  # type: ignore[assignment]  # side renamed: a leftover
    with pytest.raises(Killed):
        converge(V1_NEW_SIDE, engine)
    engine.fault = None
    options = PlanOptions(migrate=True, backup_dir="/backups")

    planned = plan_desired(desired_from(V1_NEW_LABELS), engine, options)
    document = json.loads(dumps(plan_document(planned)))

    validate(document, "plan.schema.json")
    verbs = {change["verb"] for change in document["resource_changes"]}
    assert {"roll back", "copy", "backup", "replace", "remove"} <= verbs
    assert document["summary"]["destructive"] == 0


class Podman(FakeEngine):
    """Names itself as records.daemon_id names a Podman engine."""

    def info(self) -> EngineInfo:
        super().info()
        return replace(FAKE_INFO, daemon_id="podman:fake:/root")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (PlanOptions(migrate=True), "copy volume data into data_volplan-migrate, copy volume"),
        (PlanOptions(backup_dir="/backups", allow_data_loss=True), "back up volume data:"),
    ],
)
def test_on_podman_a_plan_that_moves_volume_content_is_refused_whole(
    options: PlanOptions, words: str
) -> None:
    engine = Podman()
    converge(V1, engine)
    engine.calls.clear()

    with pytest.raises(PlanError, match=words):
        plan_desired(desired_from(V1_NEW_LABELS), engine, options)

    assert engine.mutations == []
    assert plan_desired(desired_from(V2), engine).plan.actions  # a plan with no copy is made
