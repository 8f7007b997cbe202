"""The one apply use case: lock, plan again, refuse, confirm, apply, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.gitops import write_specs
from test_reconcile import BASE

from reconciler.apply.applier import ApplyListener
from reconciler.apply.apply_target import ApplyTarget
from reconciler.apply.locked_apply import Prompts, apply_locked
from reconciler.engine.fake import FakeEngine
from reconciler.errors import RefusedError
from reconciler.pipeline import Planned
from reconciler.plan.options import PlanOptions


def _apply(
    specs: Path,
    engine: FakeEngine,
    confirm: bool,
    options: PlanOptions,
    asked: list[str] | None = None,
) -> list[str]:
    """Apply, recording in ``asked`` what the prompts were asked, in order."""
    asked = [] if asked is None else asked

    def show(planned: Planned) -> None:
        asked.append(f"show {len(planned.plan.actions)}")

    def answer(planned: Planned) -> bool:
        asked.append("confirm")
        return confirm

    target = ApplyTarget.open(specs, options)
    report = apply_locked(target, engine, Prompts(show, answer), ApplyListener())
    asked.append(f"done {len(report.done)}")
    return asked


def test_it_shows_asks_then_applies_and_a_no_changes_nothing(tmp_path: Path) -> None:
    specs = write_specs(tmp_path, BASE)
    engine = FakeEngine()

    with pytest.raises(RefusedError, match="apply cancelled; nothing was changed"):
        _apply(specs, engine, False, PlanOptions())
    assert not engine.volumes
    assert _apply(specs, engine, True, PlanOptions()) == ["show 4", "confirm", "done 4"]
    assert _apply(specs, engine, True, PlanOptions()) == ["show 0", "done 0"]


def test_data_loss_is_refused_before_anyone_is_asked(tmp_path: Path) -> None:
    specs = write_specs(tmp_path, BASE)
    engine = FakeEngine()
    _apply(specs, engine, True, PlanOptions())
    write_specs(tmp_path, BASE.replace("team: web", "team: ops"))

    asked: list[str] = []

    with pytest.raises(RefusedError, match=r"refusing to destroy data: volume\.webapp-data"):
        _apply(specs, engine, True, PlanOptions(), asked)
    assert asked == ["show 5"]
    assert _apply(specs, engine, True, PlanOptions(allow_data_loss=True))[-1] == "done 5"
