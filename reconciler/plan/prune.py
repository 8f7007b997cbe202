"""Pruning: removing what carries a project's label but is gone from its specs. Pure.

Only resources labelled ``io.volplan.project`` with one of the specs' projects are ever
candidates; anything without the label is never touched. Containers go first, then the
volumes they freed. A volume is kept (and the plan says why) when it is protected or when
a container that stays would still hold it: Docker refuses to remove a volume any
container references, running or stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler import labels
from reconciler.identity import ActionKey, ActionKind, Address
from reconciler.live.queries import find_leftovers, recorded_config
from reconciler.model import DesiredState, LiveContainer, LiveState
from reconciler.plan.actions import Action, Note, RemoveContainer, RemoveVolume, action_key
from reconciler.plan.protection import is_protected


def prune_actions(
    desired: DesiredState, live: LiveState, planned: Sequence[Action]
) -> tuple[list[Action], list[Note]]:
    """Removals for the leftovers, after ``planned``; and a note for each volume kept."""
    leftovers = find_leftovers(desired, live)
    actions: list[Action] = [_container_removal(c) for c in leftovers.containers]
    keys = {action_key(a) for a in (*planned, *actions)}
    notes = []
    for leftover in leftovers.volumes:
        address = Address.volume(leftover.name)
        if is_protected(leftover.name, desired, live):
            notes.append(Note(address, "kept: it is protected (io.volplan.protect); never pruned"))
            continue
        holders = sorted(c.name for c in live.containers_using_volume(leftover.name))
        freeing = {h: _freeing_key(h, keys) for h in holders}
        staying = [h for h, key in freeing.items() if key is None]
        if staying:
            notes.append(Note(address, f"kept: in use by container {', '.join(staying)}"))
            continue
        actions.append(
            RemoveVolume(
                name=leftover.name,
                reason=_leftover_reason(leftover.labels),
                requires=tuple(sorted((k for k in freeing.values() if k is not None), key=str)),
            )
        )
    return actions, notes


def _container_removal(container: LiveContainer) -> RemoveContainer:
    timeout = recorded_config(container).get("stop_timeout")
    return RemoveContainer(
        name=container.name,
        old_id=container.id,
        was_running=container.running,
        stop_timeout=timeout if isinstance(timeout, int) else None,
        reason=_leftover_reason(container.labels),
    )


def _freeing_key(holder: str, keys: set[ActionKey]) -> ActionKey | None:
    """The planned action that makes ``holder`` let go of its volumes, if there is one."""
    for kind in (ActionKind.REMOVE, ActionKind.RECREATE, ActionKind.ADOPT):
        key = ActionKey(kind, Address.container(holder))
        if key in keys:
            return key
    return None


def _leftover_reason(resource_labels: Mapping[str, str]) -> str:
    project = resource_labels.get(labels.PROJECT)
    return f"labelled for project {project!r} but no longer in the specs (prune)"
