"""Runs the stages in order for the commands: load, read live state, diff, plan.

This is the one place that wires I/O (files, engine) to the pure stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from reconciler.actions import Plan
from reconciler.background import Background
from reconciler.differ import Diff, diff_states
from reconciler.engine.base import Engine
from reconciler.gc_paused import gc_paused
from reconciler.live_reader import read_live_state
from reconciler.model import DesiredState, LiveState
from reconciler.planner import make_plan
from reconciler.preflight import check_bind_sources
from reconciler.spec.loader import load_spec_dir


@dataclass(frozen=True)
class Planned:
    desired: DesiredState
    live: LiveState
    diff: Diff
    plan: Plan


def plan_directory(directory: Path, engine: Engine) -> Planned:
    """Load the specs while the engine is read (see background.py), then diff and plan."""
    live_state = Background(partial(read_live_state, engine), name="volplan-read-live")
    with gc_paused():
        desired = load_spec_dir(directory)
        live = live_state.result()
        diff = diff_states(desired, live)
        plan = make_plan(desired, live, diff)
    if live.engine.is_local:
        check_bind_sources(plan)
    return Planned(desired, live, diff, plan)
