"""Saved plans and the plan document against the fake engine: applied as made, or refused."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from support.gitops import validate, write_specs

from reconciler.apply.applier import apply_plan
from reconciler.apply.apply_target import ApplyTarget
from reconciler.apply.replan import embedded_specs
from reconciler.apply.replan import replan_saved as replan
from reconciler.engine.base import DEFAULT_HELPER_IMAGE, VolumeCreate
from reconciler.engine.fake import FAKE_INFO, FakeEngine
from reconciler.errors import PlanFileError, RefusedError, StalePlanError
from reconciler.pipeline import Planned, load, plan
from reconciler.plan.document import dumps, plan_document
from reconciler.plan.options import PlanOptions
from reconciler.plan.saved_plan import SavedPlan, read_saved_plan, saved_plan_text
from specs import ALLOW_DATA_LOSS

SPEC = """\
    version: 1
    project: shop
    volumes:
      data: {}
    containers:
      app: {image: busybox, mounts: ["data:/data"]}
    """


def replan_saved_plan(saved: SavedPlan, engine: FakeEngine) -> Planned:
    return replan(saved, embedded_specs(saved), engine)


@pytest.fixture
def saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeEngine, Path]:
    """A fake engine and plan.json made from specs/ in the current folder."""
    monkeypatch.chdir(tmp_path)
    write_specs(tmp_path, SPEC)
    engine = FakeEngine()
    planned = plan(load(Path("specs")), engine)
    Path("plan.json").write_text(saved_plan_text(planned, planned.sources, Path("specs")))
    return engine, Path("plan.json")


def test_plan_document_is_deterministic_and_valid(tmp_path: Path) -> None:
    specs = write_specs(tmp_path, SPEC)
    engine = FakeEngine()

    first = dumps(plan_document(plan(load(specs), engine, PlanOptions(prune=True))))
    second = dumps(plan_document(plan(load(specs), engine, PlanOptions(prune=True))))

    assert first == second
    document = json.loads(first)
    validate(document, "plan.schema.json")
    assert document["options"] == {
        "prune": True,
        "allow_data_loss": False,
        "migrate": False,
        "backup_dir": None,
        "helper_image": None,
    }
    assert document["live_state"]["resources"] == {}


def test_a_saved_plan_is_applied_as_made_then_is_stale(saved: tuple[FakeEngine, Path]) -> None:
    engine, path = saved
    plan = read_saved_plan(path)
    validate(plan.document, "plan.schema.json")

    replanned = replan_saved_plan(plan, engine)
    apply_plan(replanned.plan, engine, options=ALLOW_DATA_LOSS)

    assert sorted(engine.volumes) == ["data"]
    with pytest.raises(StalePlanError, match=r"engine changed .*: container.app, volume.data"):
        replan_saved_plan(plan, engine)


def test_a_saved_plan_is_stale_when_a_relevant_volume_changes(
    saved: tuple[FakeEngine, Path],
) -> None:
    engine, path = saved
    engine.create_volume(VolumeCreate("unrelated", "local", {}, {}))
    replan_saved_plan(read_saved_plan(path), engine)  # other resources do not matter

    engine.create_volume(VolumeCreate("data", "local", {}, {"by": "hand"}))

    with pytest.raises(StalePlanError, match=r"volume\.data"):
        replan_saved_plan(read_saved_plan(path), engine)
    assert engine.mutations == [("create_volume", "unrelated"), ("create_volume", "data")]


def test_a_saved_plan_for_another_engine_is_refused(saved: tuple[FakeEngine, Path]) -> None:
    engine, path = saved
    engine.info = lambda: replace(FAKE_INFO, daemon_id="OTHER")  # type: ignore[method-assign]

    with pytest.raises(PlanFileError, match="made against another engine"):
        replan_saved_plan(read_saved_plan(path), engine)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: text[:100], "the JSON is broken"),
        (lambda text: "<html>", "the JSON is broken"),
        (lambda text: text.replace('"kind": "plan"', '"kind": "drift"'), "not a volplan plan"),
        (lambda text: text.replace('"prune": false', '"prune": "no"'), "options.prune"),
        (lambda text: text.replace("data:/data", "data:/other"), "plan file was modified"),
    ],
    ids=["truncated", "garbage", "wrong-kind", "bad-option", "edited-spec"],
)
def test_broken_plan_files_give_one_clear_error(
    saved: tuple[FakeEngine, Path], edit: object, message: str
) -> None:
    _, path = saved
    assert callable(edit)
    path.write_text(edit(path.read_text()))

    with pytest.raises(PlanFileError, match=message) as caught:
        read_saved_plan(path)
    assert "\n" not in str(caught.value)


def test_a_binary_file_is_not_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(b"\xff\xfe\x00")

    with pytest.raises(PlanFileError, match="not a volplan plan file"):
        read_saved_plan(path)


def test_a_saved_plan_keeps_its_options(saved: tuple[FakeEngine, Path]) -> None:
    _, path = saved

    opened = ApplyTarget.open(path, PlanOptions())

    assert opened.options == PlanOptions()
    assert opened.desired.projects == ("shop",)
    assert opened.helper_image == DEFAULT_HELPER_IMAGE
    with pytest.raises(RefusedError, match="applied with the options it was made with"):
        ApplyTarget.open(path, PlanOptions(allow_data_loss=True))
