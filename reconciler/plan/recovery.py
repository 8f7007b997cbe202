"""Leftovers of an interrupted apply, found in the live state, and the actions clearing them. Pure.

A run killed half-way (SIGKILL, a lost engine) can leave two kinds of containers behind:
an old container renamed ``NAME_volplan-old`` by a recreate that never finished, and
helper containers of a copy or backup. Both are recognised by name and label, cleared
first, and the rest of the plan is made against the live state as it will be then. Only
the specs' projects' recreates are cleared: another project's run may still be in the
middle of one, under its own lock. An adoption cut short leaves an old container without
volplan's labels: it is finished only when the new container proves it adopted that one
(labels.ADOPTED_FROM holds its ID), and rolled back only when no container has the name;
any other unlabelled ``NAME_volplan-old`` is a stranger's and left alone.
Helper containers carry no project; any run clears them (removing one that another run
still streams from fails, and loses nothing).
(A migration's temporary volume is handled by migration.py, next to the migration.)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from reconciler import labels
from reconciler.model import LiveContainer, LiveState
from reconciler.plan.actions import Action, FinishRecreate, RemoveContainer, action_key


@dataclass(frozen=True)
class Recovery:
    """The actions that clear the leftovers, and the live state once they have run."""

    actions: tuple[Action, ...]
    live: LiveState

    def before(self, actions: tuple[Action, ...]) -> tuple[Action, ...]:
        """The recovery actions, then ``actions``, each made to wait for the recovery."""
        keys = tuple(action_key(a) for a in self.actions)
        return (
            *self.actions,
            *(replace(a, requires=tuple(sorted({*a.requires, *keys}, key=str))) for a in actions),
        )


def plan_recovery(
    live: LiveState, projects: Collection[str], declared: Collection[str] = ()
) -> Recovery:
    """``declared``: the specs' container names (an adoption's leftover has no labels)."""
    containers = dict(live.containers)
    actions: list[Action] = []
    for leftover in sorted(live.containers.values(), key=lambda c: c.name):
        if labels.HELPER in leftover.labels:
            actions.append(_remove_helper(leftover))
            del containers[leftover.name]
        elif _is_recreate_leftover(leftover, live, projects, declared):
            name = leftover.name.removesuffix(labels.RECREATE_SUFFIX)
            roll_back = name not in live.containers
            actions.append(_finish_recreate(name, leftover, roll_back=roll_back))
            del containers[leftover.name]
            if roll_back:
                containers[name] = replace(leftover, name=name)
    return Recovery(tuple(actions), replace(live, containers=dict(sorted(containers.items()))))


def _is_recreate_leftover(
    container: LiveContainer, live: LiveState, projects: Collection[str], declared: Collection[str]
) -> bool:
    if not container.name.endswith(labels.RECREATE_SUFFIX):
        return False
    project = container.labels.get(labels.PROJECT)
    if project is not None:
        return project in projects
    name = container.name.removesuffix(labels.RECREATE_SUFFIX)
    if name not in declared:
        return False
    replacement = live.containers.get(name)
    return replacement is None or replacement.labels.get(labels.ADOPTED_FROM) == container.id


def _remove_helper(helper: LiveContainer) -> RemoveContainer:
    return RemoveContainer(
        name=helper.name,
        old_id=helper.id,
        was_running=helper.running,
        reason=(
            f"helper container of an interrupted {helper.labels[labels.HELPER]} found; "
            "removing it (never its volumes)"
        ),
    )


def _finish_recreate(name: str, old: LiveContainer, *, roll_back: bool) -> FinishRecreate:
    if roll_back:
        reason = (
            f"interrupted recreate of {name} found; will roll it back: {old.name} was stopped "
            f"and no new {name} exists, so it gets its name back"
        )
    else:
        reason = (
            f"interrupted recreate of {name} found; will finish it: the new {name} exists, "
            f"so the old one, stopped as {old.name}, is removed (never its volumes)"
        )
    return FinishRecreate(name=name, old_id=old.id, roll_back=roll_back, reason=reason)
