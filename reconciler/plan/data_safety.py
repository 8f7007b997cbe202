"""The plan rewrites that keep data safe, applied to the planner's plan in one place. Pure.

In order: migrations replace data-destroying replacements (with --migrate) and resume
interrupted ones; backups go before every replacement or removal of a volume (with
--backup-dir); the clean-up of an interrupted run goes first of all.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import replace

from reconciler.engine.base import DEFAULT_HELPER_IMAGE
from reconciler.errors import PlanError
from reconciler.model import LiveState
from reconciler.plan.actions import (
    Action,
    BackupVolume,
    CopyVolume,
    Plan,
    RemoveVolume,
    ReplaceVolume,
    action_key,
)
from reconciler.plan.migration import MigrationOptions, plan_migrations
from reconciler.plan.options import PlanOptions
from reconciler.plan.recovery import Recovery


def helper_image(options: PlanOptions, spec_default: str | None) -> str:
    """--helper-image, else the spec's ``helper_image:``, else volplan's own empty image."""
    return options.helper_image or spec_default or DEFAULT_HELPER_IMAGE


def make_safe(
    plan: Plan,
    live: LiveState,
    recovery: Recovery,
    options: PlanOptions,
    *,
    image: str,
    declared: AbstractSet[str],
) -> Plan:
    """``declared``: the volumes the specs declare (only their migrations are resumed)."""
    plan = plan_migrations(
        plan,
        live,
        MigrationOptions(migrate=options.migrate, helper_image=image, declared=declared),
    )
    if options.backup_dir is not None:
        plan = plan_backups(plan, options.backup_dir, image)
    if live.engine.is_podman:
        _refuse_content_moves(plan)
    return replace(plan, actions=recovery.before(plan.actions))


def _refuse_content_moves(plan: Plan) -> None:
    """Podman's archive endpoints cannot carry a volume's owners (content/volume_io.
    below_top), so a plan that copies or backs one up is refused whole, here: applied, it
    would fail only at the copy, after the containers holding the volume were removed."""
    moves = [
        f"copy volume {action.source} into {action.target}"
        if isinstance(action, CopyVolume)
        else f"back up volume {action.name}"
        for action in plan.actions
        if isinstance(action, CopyVolume | BackupVolume)
    ]
    if moves:
        raise PlanError(
            f"the plan would {', '.join(moves)}: volplan moves no volume content through "
            "Podman's archive endpoints, which report every file as owned by the reading "
            "container's user, so the copy would lose file ownership unseen. Nothing was "
            "changed. Plan without --migrate and --backup-dir, or move the data on the "
            "engine's host (podman volume export, podman volume import)."
        )


def plan_backups(plan: Plan, directory: str, image: str) -> Plan:
    """A ``BackupVolume`` right before each replacement or (pruning) removal of a volume.

    The backup waits for what the replacement waited for (the containers holding the
    volume are gone, so its content is at rest), and the replacement waits for the backup.
    A migration's temporary volume is not backed up: it is removed only once verified
    identical to the volume its content was copied back into.
    """
    actions: list[Action] = []
    for action in plan.actions:
        match action:
            case ReplaceVolume(volume=volume):
                name, fate = volume.name, "replaced"
            case RemoveVolume(name=name):
                fate = "removed"
            case _:
                actions.append(action)
                continue
        backup = BackupVolume(
            name=name,
            directory=directory,
            helper_image=image,
            requires=action.requires,
            reason=f"--backup-dir: save volume {name} before it is {fate}",
        )
        actions += [backup, replace(action, requires=(*action.requires, action_key(backup)))]
    return replace(plan, actions=tuple(actions))
