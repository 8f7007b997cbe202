"""Applying a saved plan: it is made again now, and refused unless it is the same plan.

Applying re-runs the pipeline on the plan's embedded specs against a fresh read of the
engine and refuses, changing nothing, unless all of these hold:

- the engine is the one the plan was made against (same daemon ID);
- the spec folder on disk still holds the very same specs;
- the live resources the plan depends on are unchanged (``live_state``, fingerprint.py);
- the recomputed plan equals the saved one, action for action.

(That the embedded specs still hash to the recorded ``spec_digest`` is checked when the
file is read, plan/saved_plan.py.) That is Terraform's stale-plan rule, without its hole:
absence is fingerprinted too, so a plan made against an empty engine cannot be applied
twice. The live state compared is the one read, before any recovery of an interrupted run
is simulated, so a plan made next to a killed run's leftovers can be applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler.engine.base import Engine
from reconciler.errors import PlanFileError, SpecError, StalePlanError
from reconciler.identity import Address
from reconciler.live.fingerprint import changed_addresses, live_fingerprints, spec_digest
from reconciler.model import LiveState
from reconciler.pipeline import Planned, Specs, load, plan, read_with_images
from reconciler.plan.document import plan_document
from reconciler.plan.saved_plan import SAVED_ONLY_KEYS, SavedPlan
from reconciler.spec.files import SpecSource, read_spec_dir


def embedded_specs(saved: SavedPlan, variables: Mapping[str, str] | None = None) -> Specs:
    """The specs the plan was made from, as embedded in it (from the cache when unchanged),
    with a fleet target's ``variables``."""
    try:
        specs = load(saved.sources, variables=variables)
    except SpecError as exc:
        raise PlanFileError(f"{saved.path}: its embedded specs are invalid: {exc}") from None
    if not set(saved.projects) <= {*specs.desired.projects, *specs.desired.elsewhere}:
        raise PlanFileError(f"{saved.path}: the plan file was modified: projects do not match")
    return specs


def replan_saved(saved: SavedPlan, specs: Specs, engine: Engine) -> Planned:
    """The saved plan (whose ``embedded_specs`` are ``specs``) recomputed now, if it still
    holds; else ``StalePlanError``."""
    _check_spec_dir(saved)
    specs, live = read_with_images(engine, specs)
    _check_engine(saved, live)
    _check_placement(saved, specs.desired.projects)
    _check_live_state(saved, live_fingerprints(specs.desired, live))
    planned = plan(specs, live, saved.options)
    _check_same_plan(saved, planned)
    return planned


def _projects(names: Sequence[str]) -> str:
    return f"project{'' if len(names) == 1 else 's'} {', '.join(names)}"


def _check_spec_dir(saved: SavedPlan) -> None:
    folder = Path(saved.spec_dir)
    if not folder.exists():  # a spec folder, or the one spec file the plan was made from
        raise StalePlanError(
            f"the plan in {saved.path} was made from the specs in {saved.spec_dir!r}, which is "
            "not found here; apply it from the folder it was made in"
        )
    current = read_spec_dir(folder)
    if spec_digest(current) == spec_digest(saved.sources):
        return
    projects = _projects_of(current)
    if projects is not None and not set(saved.projects) <= set(projects):
        raise PlanFileError(
            f"{saved.path} is a plan for {_projects(saved.projects)}, but "
            f"{saved.spec_dir} holds {_projects(projects)}"
        )
    before = {s.display_name: s.raw for s in saved.sources}
    after = {s.display_name: s.raw for s in current}
    files = sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
    raise StalePlanError(
        f"stale plan: the specs changed since {saved.path} was made ({saved.timestamp}): "
        f"{', '.join(files)}; re-plan"
    )


def _projects_of(sources: list[SpecSource]) -> tuple[str, ...] | None:
    try:
        return load(sources).desired.projects
    except SpecError:
        return None


def _check_engine(saved: SavedPlan, live: LiveState) -> None:
    if live.engine.daemon_id != saved.daemon_id:
        raise PlanFileError(
            f"{saved.path} was made against another engine ({saved.endpoint}, daemon "
            f"{saved.daemon_id}); this is {live.engine.endpoint} (daemon {live.engine.daemon_id})"
        )


def _check_placement(saved: SavedPlan, projects: Sequence[str]) -> None:
    """The engine's labels (or a target's) decide which projects it takes (placement.py)."""
    if tuple(projects) != saved.projects:
        raise StalePlanError(
            f"stale plan: {saved.path} was made for {_projects(saved.projects)} on this "
            f"engine, whose labels now select {_projects(projects) if projects else 'none'}; "
            "re-plan"
        )


def _check_live_state(saved: SavedPlan, fingerprints: Mapping[Address, str]) -> None:
    """Checked before planning, so a changed engine reads as a stale plan, whatever else."""
    changed = changed_addresses(saved.fingerprints, fingerprints)
    if changed:
        raise StalePlanError(
            f"stale plan: the engine changed since {saved.path} was made ({saved.timestamp}): "
            f"{', '.join(map(str, changed))}; re-plan"
        )


def _check_same_plan(saved: SavedPlan, planned: Planned) -> None:
    """Everything but the engine's endpoint (checked by daemon ID) must match exactly."""
    ignored = ("engine", *SAVED_ONLY_KEYS)
    recomputed = {k: v for k, v in plan_document(planned).items() if k not in ignored}
    made_by = saved.document.get("volplan_version")
    if made_by != recomputed["volplan_version"]:
        raise StalePlanError(
            f"{saved.path} was made by volplan {made_by}; this is volplan "
            f"{recomputed['volplan_version']}: re-plan"
        )
    recorded = {k: v for k, v in saved.document.items() if k not in ignored}
    if recomputed != recorded:
        keys = sorted(
            k for k in recomputed.keys() | recorded.keys() if recomputed.get(k) != recorded.get(k)
        )
        raise PlanFileError(
            f"{saved.path}: the plan file was modified: {', '.join(keys)} no longer match what "
            "its specs give against this engine; re-plan"
        )
