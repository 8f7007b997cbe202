"""Runs the stages in order for the commands: load, read live state, diff, plan.

This is the one place that wires I/O (files, engine) to the pure stages, and the one way
in for callers: ``load`` gives the specs (from the cache when unchanged), ``plan`` plans
them against the engine. ``load_and_read`` is ``load`` with the engine read meanwhile.
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
from reconciler.identity import Address
from reconciler.live.background import Background
from reconciler.live.fingerprint import live_fingerprints, spec_digest
from reconciler.live.image_volumes import with_image_volumes
from reconciler.live.images import read_image_configs, with_image_ids
from reconciler.live.networks import check_networks
from reconciler.live.reader import connect_and_read, read_live_state
from reconciler.model import DesiredState, LiveState
from reconciler.plan.actions import Plan
from reconciler.plan.data_safety import helper_image, make_safe
from reconciler.plan.image_notes import pull_notes, released_volume_notes
from reconciler.plan.options import PlanOptions
from reconciler.plan.planner import make_plan
from reconciler.plan.preflight import check_bind_sources
from reconciler.plan.recovery import plan_recovery
from reconciler.policy.rules import Policy, check_policy
from reconciler.spec import cache
from reconciler.spec.files import SpecSource, read_spec_dir
from reconciler.spec.placement import place


@dataclass(frozen=True)
class Specs:
    """Spec files, and the desired state they declare."""

    sources: tuple[SpecSource, ...]
    desired: DesiredState
    completed: bool = False
    """``desired`` holds what the engine's images say (``complete``): each container's
    image ID and the paths its image declares as volumes. Only a plan needs that."""


@dataclass(frozen=True)
class Planned:
    """A plan and what it was made from.

    ``observed`` is the live state as read; ``after_recovery`` is the same state once an
    interrupted run's leftovers are cleared (recovery.py), which is what the rest of the
    plan is made against. A saved plan is bound to ``observed``: that is what a later
    read of the engine can be compared with.
    """

    desired: DesiredState
    observed: LiveState
    after_recovery: LiveState
    diff: Diff
    plan: Plan
    sources: tuple[SpecSource, ...] = ()
    options: PlanOptions = field(default_factory=PlanOptions)

    @property
    def spec_digest(self) -> str:
        return spec_digest(self.sources)

    @property
    def fingerprints(self) -> Mapping[Address, str]:
        """Fingerprints of the live resources the plan was made from (fingerprint.py)."""
        return live_fingerprints(self.desired, self.observed)


def load(
    source: Path | Sequence[SpecSource],
    *,
    policy: Policy | None = None,
    endpoint: str = "",
    variables: Mapping[str, str] | None = None,
) -> Specs:
    """The specs in a folder (or given as sources, e.g. a saved plan's), validated, and
    checked against ``policy`` if one is given (see ``enforce_policy`` for ``endpoint``).
    ``variables`` are a target's (a targets file's), interpolated before all others."""
    sources = tuple(read_spec_dir(source) if isinstance(source, Path) else source)
    specs = Specs(sources, _desired_state(sources, variables or {}))
    if policy is not None:
        enforce_policy(specs.desired, policy, endpoint)
    return specs


def load_and_read(
    directory: Path, connect: Callable[[], Engine], *, policy: Policy | None = None
) -> tuple[Specs, LiveState]:
    """``load``, while the engine is read (see background.py); the policy is checked for
    the engine that answered. The specs come completed by what their images say
    (``with_images``).

    A spec error is raised first, as if the engine had not been asked: only when the specs
    load does an engine error (from ``connect`` or the reads) come out.
    """
    live = Background(lambda: connect_and_read(connect), name="volplan-read-live")
    specs = load(directory)
    engine, observed = live.result()
    if policy is not None:
        enforce_policy(specs.desired, policy, observed.engine.endpoint)
    return with_engine(engine, specs, observed)


def with_engine(engine: Engine, specs: Specs, live: LiveState) -> tuple[Specs, LiveState]:
    """``specs`` for a plan on ``engine``, whose state ``live`` is: the networks they join
    checked there (networks.py), then completed by what its images say (``with_images``)."""
    check_networks(specs.desired, engine)
    return with_images(engine, specs, live)


def read_with_images(engine: Engine, specs: Specs) -> tuple[Specs, LiveState]:
    """The engine read now, and the specs completed by what their images say."""
    return with_images(engine, specs, read_live_state(engine))


def with_images(engine: Engine, specs: Specs, live: LiveState) -> tuple[Specs, LiveState]:
    """The configs of the specs' images read into ``live`` (or taken from their cache,
    live/image_cache.py), and the specs completed for this engine (``complete``)."""
    live = read_image_configs(engine, live, specs.desired)
    return complete(specs, live), live


def complete(specs: Specs, live: LiveState) -> Specs:
    """``specs`` for the engine ``live`` was read from: without the projects whose
    ``targets:`` labels it does not match (placement.py), with the image ID each reference
    names there and the paths its image declares as volumes (image_volumes.py), from the
    image configs ``live`` holds.

    The one place specs are completed; ``plan`` takes them so and does not do it again.
    Idempotent, so specs completed against an earlier read can be completed again.
    """
    desired = placed(specs, live.engine.labels).desired
    desired = with_image_volumes(with_image_ids(desired, live), live)
    return Specs(specs.sources, desired, completed=True)


def placed(specs: Specs, labels: Mapping[str, str]) -> Specs:
    """The specs without the projects whose ``targets:`` labels ``labels`` do not match."""
    return replace(specs, desired=place(specs.desired, labels))


def _desired_state(sources: Sequence[SpecSource], variables: Mapping[str, str]) -> DesiredState:
    """What ``sources`` declare: from the cache of validated specs when they are unchanged
    (spec/cache.py); else validated, and then cached. The loader, and with it pydantic and
    ruamel.yaml, is imported only on a miss: a hit is meant to spare exactly that time. A
    target's ``variables`` are not among the cache's inputs: with them, no cache."""
    cached = None if variables else cache.lookup(sources)
    if cached is not None:
        return cached
    from reconciler.spec.loader import build_desired_state

    desired = build_desired_state(list(sources), target_variables=variables)
    if not variables:
        cache.store(sources, desired)
    return desired


def plan(specs: Specs, live: Engine | LiveState, options: PlanOptions | None = None) -> Planned:
    """Plan ``specs`` against the engine (read now) or a live state already read, which
    the specs were completed with (``load_and_read``, ``read_with_images``, ``complete``).

    The plan is made against the live state as it will be once an interrupted run's
    leftovers are cleared (recovery.py), then the data-safety rewrites are applied.
    """
    if not isinstance(live, LiveState):
        specs, live = with_engine(live, specs, read_live_state(live))
    elif not specs.completed:
        raise ValueError("plan() takes specs completed against the live state (complete())")
    observed = live
    options = options or PlanOptions()
    desired = specs.desired
    recovery = plan_recovery(observed, desired.projects, desired.containers.keys())
    after = recovery.live
    image = helper_image(options, desired.helper_image)
    with gc_paused():
        diff = diff_states(desired, after)
        made = make_safe(
            make_plan(desired, after, diff, options),
            after,
            recovery,
            options,
            image=image,
            declared=desired.volumes.keys(),
        )
    notes = released_volume_notes(made, desired, after)
    if after.images is not None:  # None: recorded without the image list, nothing to say
        notes += pull_notes(desired)
    made = replace(made, notes=(*made.notes, *notes))
    if after.engine.is_local:
        check_bind_sources(made)
    return Planned(desired, observed, after, diff, made, specs.sources, options)


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
