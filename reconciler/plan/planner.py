"""Stage 4, the planner: differences -> an ordered ``Plan`` of minimal actions. Pure.

Order: the removals that free a replaced volume, then volume creates and replacements,
then containers in ``volumes_from`` dependency order (ties broken by name), then starts
and stops, and last, with ``prune``, the removal of labelled leftovers (see prune.py).
The planner accounts for its own earlier actions: a container removed to free a volume
is created again afterwards, not recreated.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import replace

from reconciler.container_options import Dependency
from reconciler.diff.differ import Diff, ResourceDiff, Status
from reconciler.errors import PlanError
from reconciler.fieldpath import format_path
from reconciler.identity import ActionKey, ActionKind, Address
from reconciler.live.queries import resolve_anonymous
from reconciler.model import DesiredContainer, DesiredState, LiveState, MountKind, RunState
from reconciler.plan.actions import (
    Action,
    CreateContainer,
    CreateVolume,
    Noop,
    Note,
    Plan,
    RecreateContainer,
    RemoveContainer,
    ReplaceVolume,
    StartContainer,
    StopContainer,
    action_key,
)
from reconciler.plan.options import PlanOptions
from reconciler.plan.protection import refuse_protected_replacements
from reconciler.plan.prune import prune_actions


def make_plan(
    desired: DesiredState, live: LiveState, diff: Diff, options: PlanOptions | None = None
) -> Plan:
    _raise_conflicts(diff)
    volume_actions = _volume_actions(desired, diff)
    refuse_protected_replacements(volume_actions, desired, live)
    replaced = {a.volume.name for a in volume_actions if isinstance(a, ReplaceVolume)}
    holders = _holders(replaced, desired, live)
    freed = {name: volume for volume, name in holders}
    removals = [
        _removal(live, desired, name, f"frees volume {volume}, which is replaced")
        for name, volume in sorted(freed.items())
    ]
    container_actions = _container_actions(desired, live, diff, freed)
    actions = _with_requirements(holders, [*removals, *volume_actions, *container_actions])
    notes: list[Note] = []
    if options is not None and options.prune:
        pruned, notes = prune_actions(desired, live, actions)
        actions += pruned
    unchanged, adopted = _untouched(diff, {action_key(a).address for a in actions})
    return Plan(actions=tuple(actions), unchanged=unchanged, notes=tuple(notes), adopted=adopted)


def _untouched(diff: Diff, touched: set[Address]) -> tuple[tuple[Noop, ...], tuple[Noop, ...]]:
    """The resources no action touches: those left as they are, and the adopted ones."""
    unchanged: list[Noop] = []
    adopted: list[Noop] = []
    for resource in (*diff.volumes.values(), *diff.containers.values()):
        address = resource.address
        if address not in touched:
            kept = adopted if resource.status is Status.ADOPTED else unchanged
            kept.append(Noop(address, resource.reason))
    return tuple(unchanged), tuple(adopted)


_BLOCKING = frozenset({Status.CONFLICT, Status.EXTERNAL_MISSING})


def _raise_conflicts(diff: Diff) -> None:
    blocking = [
        d for d in (*diff.volumes.values(), *diff.containers.values()) if d.status in _BLOCKING
    ]
    if blocking:
        lines = [f"{d.address}: {d.reason}" for d in blocking]
        for d in blocking:
            lines += [
                f"    {format_path(c.path)}: live {c.before!r}, spec {c.after!r}" for c in d.changes
            ]
        raise PlanError(
            "the engine holds resources that conflict with the specs:\n  " + "\n  ".join(lines)
        )


def _volume_actions(desired: DesiredState, diff: Diff) -> list[Action]:
    actions: list[Action] = []
    for name, volume_diff in diff.volumes.items():
        if volume_diff.status is Status.IN_SYNC:
            continue
        volume = desired.volumes[name]
        if volume_diff.status is Status.MISSING:
            actions.append(
                CreateVolume(volume=volume, reason=volume_diff.reason, origin=volume.origin)
            )
        elif volume_diff.status is Status.CHANGED:
            actions.append(
                ReplaceVolume(
                    volume=volume,
                    reason=volume_diff.reason,
                    origin=volume.origin,
                    changes=volume_diff.changes,
                )
            )
    return actions


def _holders(replaced: set[str], desired: DesiredState, live: LiveState) -> list[tuple[str, str]]:
    """(volume, container) for each container holding a replaced volume.

    Docker refuses to remove a volume that any container, even a stopped one, references.
    """
    holders = []
    for volume in sorted(replaced):
        for container in live.containers_using_volume(volume):
            if container.name not in desired.containers:
                raise PlanError(
                    f"volume {volume!r} must be replaced, but container {container.name!r}, which "
                    "volplan does not manage, uses it; remove that container or change the spec"
                )
            holders.append((volume, container.name))
    return holders


def _removal(live: LiveState, desired: DesiredState, name: str, reason: str) -> RemoveContainer:
    container = live.containers[name]
    return RemoveContainer(
        name=name,
        old_id=container.id,
        was_running=container.running,
        stop_timeout=desired.containers[name].stop_timeout,
        reason=reason,
        origin=desired.containers[name].origin,
    )


def _container_actions(
    desired: DesiredState, live: LiveState, diff: Diff, freed: Mapping[str, str]
) -> list[Action]:
    actions: list[Action] = []
    for name in dependency_order(desired.containers):
        container = desired.containers[name]
        container_diff = diff.containers[name]
        action = _container_action(container, container_diff, live, freed.get(name))
        if action is not None:
            actions.append(action)
    return actions


def _container_action(
    container: DesiredContainer, diff: ResourceDiff, live: LiveState, freed_volume: str | None
) -> Action | None:
    origin, changes = container.origin, diff.changes
    waits = _waits(container)
    if freed_volume is not None or diff.status is Status.MISSING:
        reason = (
            diff.reason
            if freed_volume is None
            else f"created again after being removed to free volume {freed_volume}"
        ) + waits
        return CreateContainer(
            container=container,
            anonymous=resolve_anonymous(container, live),
            reason=reason,
            origin=origin,
            changes=changes,
        )
    if diff.status in {Status.CHANGED, Status.UNMANAGED}:
        old = live.containers[container.name]
        return RecreateContainer(
            container=container,
            old_id=old.id,
            was_running=old.running,
            anonymous=resolve_anonymous(container, live),
            reason=diff.reason + waits,
            origin=origin,
            changes=changes,
            adopt=diff.status is Status.UNMANAGED,
        )
    if diff.status is Status.STATE:
        if container.state is RunState.RUNNING:
            return StartContainer(
                name=container.name,
                waits_for=container.options.depends_on,
                reason=diff.reason + waits,
                origin=origin,
                changes=changes,
            )
        return StopContainer(
            name=container.name,
            stop_timeout=container.stop_timeout,
            reason=diff.reason,
            origin=origin,
            changes=changes,
        )
    return None


def _waits(container: DesiredContainer) -> str:
    """What the plan line says a container waits for (its ``depends_on``), if anything."""
    if container.state is not RunState.RUNNING or not container.options.depends_on:
        return ""
    waited = ", ".join(
        f"{d.container} is {d.condition.state}" for d in container.options.depends_on
    )
    return f"; starts once {waited}"


def dependency_order(containers: Mapping[str, DesiredContainer]) -> list[str]:
    """Containers after their ``volumes_from`` sources and their ``depends_on``; ties broken
    by name (Kahn's algorithm).

    The loader has already refused cycles, so every container is placed.
    """
    waiting_on = {
        name: {vf.container for vf in c.volumes_from} | {d.container for d in c.options.depends_on}
        for name, c in containers.items()
    }
    dependents: dict[str, list[str]] = {}
    for name, sources in waiting_on.items():
        for source in sources:
            dependents.setdefault(source, []).append(name)
    ready = [name for name, sources in waiting_on.items() if not sources]
    heapq.heapify(ready)
    ordered: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        ordered.append(name)
        for other in dependents.get(name, ()):
            sources = waiting_on[other]
            sources.discard(name)
            if not sources:
                heapq.heappush(ready, other)
    return ordered


def _with_requirements(holders: list[tuple[str, str]], actions: list[Action]) -> list[Action]:
    """Fill in each action's ``requires``: the planned actions on the resources it needs.

    A resource needed but not planned for (a volume that exists already) adds nothing.
    """
    planned: dict[Address, list[ActionKey]] = {}
    for key in map(action_key, actions):
        planned.setdefault(key.address, []).append(key)
    result = []
    for action in actions:
        needed = {
            key
            for address, kinds in _dependencies(holders, action)
            for key in planned.get(address, ())
            if key.kind in kinds
        }
        result.append(replace(action, requires=tuple(sorted(needed, key=str))))
    return result


_MADE = frozenset({ActionKind.CREATE, ActionKind.REPLACE})
_STARTED = frozenset({ActionKind.CREATE, ActionKind.RECREATE, ActionKind.ADOPT, ActionKind.START})


def _awaited(
    dependencies: tuple[Dependency, ...],
) -> Iterable[tuple[Address, frozenset[ActionKind]]]:
    """A container waits for whatever the plan does to start its ``depends_on``."""
    return ((Address.container(d.container), _STARTED) for d in dependencies)


_REMADE = frozenset({ActionKind.CREATE, ActionKind.RECREATE, ActionKind.ADOPT})


def _dependencies(
    holders: list[tuple[str, str]], action: Action
) -> Iterable[tuple[Address, frozenset[ActionKind]]]:
    """The resources ``action`` waits for, each with the kinds of action it waits on."""
    match action:
        case ReplaceVolume(volume=replaced):
            yield from (
                (Address.container(c), frozenset({ActionKind.REMOVE}))
                for v, c in holders
                if v == replaced.name
            )
        case CreateContainer(container=desired) | RecreateContainer(container=desired):
            yield from (
                (Address.volume(v), frozenset({ActionKind.REPLACE}))
                for v, c in holders
                if c == desired.name
            )
            for mount in desired.mounts:
                if mount.kind is MountKind.VOLUME and mount.source is not None:
                    yield Address.volume(mount.source), _MADE
            for source in desired.volumes_from:
                yield Address.container(source.container), _REMADE
            yield from _awaited(desired.options.depends_on)
        case StartContainer(waits_for=dependencies):
            yield from _awaited(dependencies)
        case _:
            return
