"""Runs the stages in order for the commands: load, read live state, diff, plan.

This is the one place that wires I/O (files, engine) to the pure stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.actions import Plan
from reconciler.data_safety import SafetyOptions, helper_image, make_safe
from reconciler.differ import Diff, diff_states
from reconciler.engine.base import Engine
from reconciler.live_reader import read_live_state
from reconciler.model import DesiredState, LiveState
from reconciler.planner import make_plan
from reconciler.preflight import check_bind_sources
from reconciler.recovery import plan_recovery
from reconciler.spec.loader import load_spec_dir


@dataclass(frozen=True)
class Planned:
    desired: DesiredState
    live: LiveState
    diff: Diff
    plan: Plan


def plan_directory(directory: Path, engine: Engine, safety: SafetyOptions | None = None) -> Planned:
    planned = plan_desired(load_spec_dir(directory), engine, safety)
    if planned.live.engine.is_local:
        check_bind_sources(planned.plan)
    return planned


def plan_desired(
    desired: DesiredState, engine: Engine, safety: SafetyOptions | None = None
) -> Planned:
    """Plan against the live state as it will be once an interrupted run's leftovers are
    cleared, then apply the data-safety rewrites (data_safety.py)."""
    recovery = plan_recovery(read_live_state(engine))
    live = recovery.live
    diff = diff_states(desired, live)
    safety = safety or SafetyOptions()
    image = helper_image(safety, desired.helper_image)
    plan = make_safe(make_plan(desired, live, diff), live, recovery, safety, image)
    return Planned(desired, live, diff, plan)
