"""Runs the stages in order for the commands: load, read live state, diff, plan.

This is the one place that wires I/O (files, engine) to the pure stages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reconciler.actions import Plan
from reconciler.differ import Diff, diff_states
from reconciler.engine.base import Engine
from reconciler.errors import SpecError
from reconciler.live_reader import read_live_state
from reconciler.model import DesiredState, LiveState
from reconciler.planner import make_plan
from reconciler.policy import DEFAULT_POLICY, Policy, check_policy
from reconciler.preflight import check_bind_sources
from reconciler.spec.loader import load_spec_dir


@dataclass(frozen=True)
class Planned:
    desired: DesiredState
    live: LiveState
    diff: Diff
    plan: Plan


def plan_directory(directory: Path, engine: Engine, policy: Policy = DEFAULT_POLICY) -> Planned:
    desired = load_spec_dir(directory)
    live = read_live_state(engine)
    enforce_policy(desired, policy, live.engine.endpoint)
    diff = diff_states(desired, live)
    plan = make_plan(desired, live, diff)
    if live.engine.is_local:
        check_bind_sources(plan)
    return Planned(desired, live, diff, plan)


def enforce_policy(desired: DesiredState, policy: Policy, endpoint: str) -> None:
    """Raise ``SpecError`` listing every policy violation of ``desired``.

    When the engine listens on a local socket it mounts paths of this host: symlinks are
    then followed here too, and its own socket is denied wherever it lives.
    """
    socket = endpoint.removeprefix("unix://") if endpoint.startswith("unix://") else None
    if socket is not None:
        policy = policy.denying(socket, "volplan as the managed engine's socket")
    problems = check_policy(desired, policy, os.path.realpath if socket is not None else None)
    if problems:
        raise SpecError(problems)
