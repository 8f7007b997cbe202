"""Pruning: removing what carries a project's label but is gone from its specs. Pure.

Only resources labelled ``io.volplan.project`` with one of the specs' projects are ever
candidates; anything without the label is never touched. Containers go first, then the
volumes they freed. A volume is kept (and the plan says why) when it is protected or when
a container that stays would still hold it: Docker refuses to remove a volume any
container references, running or stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler import labels
from reconciler.diff.differ import recorded_config, resolve_anonymous
from reconciler.model import DesiredState, LiveContainer, LiveState, LiveVolume
from reconciler.plan.actions import Action, RemoveContainer, RemoveVolume, action_key
from reconciler.plan.protection import is_protected


@dataclass(frozen=True)
class Leftovers:
    """Live resources labelled as one of the specs' projects that the specs do not declare."""

    containers: tuple[LiveContainer, ...]
    volumes: tuple[LiveVolume, ...]


def find_leftovers(desired: DesiredState, live: LiveState) -> Leftovers:
    """Labelled leftovers; a declared container's anonymous volumes are not leftovers."""
    projects = set(desired.projects)
    anonymous = {
        volume.name
        for container in desired.containers.values()
        for volume in resolve_anonymous(container, live)
    }
    return Leftovers(
        containers=tuple(
            c
            for name, c in sorted(live.containers.items())
            if c.labels.get(labels.PROJECT) in projects and name not in desired.containers
        ),
        volumes=tuple(
            v
            for name, v in sorted(live.volumes.items())
            if v.labels.get(labels.PROJECT) in projects
            and name not in desired.volumes
            and name not in anonymous
        ),
    )


def prune_actions(
    desired: DesiredState, live: LiveState, planned: Sequence[Action]
) -> tuple[list[Action], list[str]]:
    """Removals for the leftovers, after ``planned``; and a note for each volume kept."""
    leftovers = find_leftovers(desired, live)
    actions: list[Action] = [_container_removal(c) for c in leftovers.containers]
    keys = {action_key(a) for a in (*planned, *actions)}
    notes = []
    for volume in leftovers.volumes:
        address = f"volume.{volume.name}"
        if is_protected(volume.name, desired, live):
            notes.append(f"{address}: kept: it is protected (io.volplan.protect); never pruned")
            continue
        holders = sorted(c.name for c in live.containers_using_volume(volume.name))
        freeing = {h: _freeing_key(h, keys) for h in holders}
        staying = [h for h, key in freeing.items() if key is None]
        if staying:
            notes.append(f"{address}: kept: in use by container {', '.join(staying)}")
            continue
        actions.append(
            RemoveVolume(
                name=volume.name,
                reason=_leftover_reason(volume.labels),
                requires=tuple(sorted(k for k in freeing.values() if k is not None)),
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


def _freeing_key(holder: str, keys: set[str]) -> str | None:
    """The planned action that makes ``holder`` let go of its volumes, if there is one."""
    for verb in ("remove", "recreate"):
        key = f"container.{holder}:{verb}"
        if key in keys:
            return key
    return None


def _leftover_reason(resource_labels: Mapping[str, str]) -> str:
    project = resource_labels.get(labels.PROJECT)
    return f"labelled for project {project!r} but no longer in the specs (prune)"
