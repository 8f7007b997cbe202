"""Runs the stages in order for the commands: load, read live state, diff, plan.

This is the one place that wires I/O (files, engine) to the pure stages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconciler.diff.differ import Diff, diff_states
from reconciler.engine.base import Engine
from reconciler.errors import SpecError
from reconciler.gc_paused import gc_paused
from reconciler.live.background import Background
from reconciler.live.fingerprint import live_fingerprints, spec_digest
from reconciler.live.image_volumes import released_volume_notes, with_image_volumes
from reconciler.live.images import read_image_configs, with_image_ids
from reconciler.live.pulls import pull_notes
from reconciler.live.reader import read_live_state
from reconciler.model import DesiredState, LiveState
from reconciler.plan.actions import Plan
from reconciler.plan.data_safety import helper_image, make_safe
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.preflight import check_bind_sources
from reconciler.plan.recovery import plan_recovery
from reconciler.policy.rules import DEFAULT_POLICY, Policy, check_policy
from reconciler.spec import cache
from reconciler.spec.files import SpecSource, read_spec_dir


@dataclass(frozen=True)
class Planned:
    desired: DesiredState
    live: LiveState
    diff: Diff
    plan: Plan
    sources: tuple[SpecSource, ...] = ()
    options: PlanOptions = field(default_factory=PlanOptions)

    @property
    def spec_digest(self) -> str:
        return spec_digest(self.sources)

    @property
    def observed(self) -> Mapping[str, str]:
        """Fingerprints of the live resources the plan was computed from (fingerprint.py)."""
        return live_fingerprints(self.desired, self.live)


def plan_directory(
    directory: Path,
    engine: Engine,
    options: PlanOptions | None = None,
    *,
    policy: Policy = DEFAULT_POLICY,
) -> Planned:
    sources, desired, live = load_and_read(directory, lambda: engine)
    enforce_policy(desired, policy, live.engine.endpoint)
    return plan_state(sources, desired, live, options)


def load_and_read(
    directory: Path, connect: Callable[[], Engine]
) -> tuple[list[SpecSource], DesiredState, LiveState]:
    """The specs, loaded while the engine is read (see background.py), then completed with
    what their images declare (``with_images``).

    A spec error is raised first, as if the engine had not been asked: only when the specs
    load does an engine error (from ``connect`` or the reads) come out.
    """

    def read() -> tuple[Engine, LiveState]:
        engine = connect()
        return engine, read_live_state(engine)

    background = Background(read, name="volplan-read-live")
    sources = read_spec_dir(directory)
    desired = desired_state(sources)
    engine, live = background.result()
    return sources, *with_images(engine, desired, live)


def with_images(
    engine: Engine, desired: DesiredState, live: LiveState
) -> tuple[DesiredState, LiveState]:
    """The configs of the specs' images read into ``live`` (or taken from their cache), and
    ``desired`` completed with the image ID each reference names and the paths those
    images declare as volumes (image_volumes.py)."""
    live = read_image_configs(engine, live, desired)
    return with_image_volumes(with_image_ids(desired, live), live), live


def load_specs(directory: Path) -> DesiredState:
    """Every spec file below ``directory``, read and validated (or found in the cache)."""
    return desired_state(read_spec_dir(directory))


def desired_state(sources: Sequence[SpecSource]) -> DesiredState:
    """What ``sources`` declare: from the cache of validated specs when they are unchanged
    (spec/cache.py); else validated, and then cached. The loader, and with it pydantic and
    ruamel.yaml, is imported only on a miss: a hit is meant to spare exactly that time."""
    cached = cache.lookup(sources)
    if cached is not None:
        return cached
    from reconciler.spec.loader import build_desired_state

    desired = build_desired_state(list(sources))
    cache.store(sources, desired)
    return desired


def plan_live(
    sources: Sequence[SpecSource],
    desired: DesiredState,
    engine: Engine,
    options: PlanOptions | None = None,
) -> Planned:
    """Read the engine now and plan ``desired`` (loaded from ``sources``) against it."""
    desired, live = with_images(engine, desired, read_live_state(engine))
    return plan_state(sources, desired, live, options)


def plan_state(
    sources: Sequence[SpecSource],
    desired: DesiredState,
    observed: LiveState,
    options: PlanOptions | None = None,
) -> Planned:
    """Plan ``desired`` (completed by ``with_images``) against a live state already read, as
    it will be once an interrupted run's leftovers are cleared (recovery.py), then apply
    the data-safety rewrites."""
    options = options or PlanOptions()
    recovery = plan_recovery(observed)
    live = recovery.live
    image = helper_image(options, desired.helper_image)
    with gc_paused():
        diff = diff_states(desired, live)
        plan = make_safe(make_plan(desired, live, diff, options), live, recovery, options, image)
    notes = released_volume_notes(plan, desired, live)
    if live.images is not None:
        notes += pull_notes(desired)
    plan = replace(plan, notes=(*plan.notes, *notes))
    if live.engine.is_local:
        check_bind_sources(plan)
    return Planned(desired, live, diff, plan, tuple(sources), options)


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
