"""Plan notes about images and the volumes a recreate lets go of. Pure.

A plan never pulls, so it says which images apply would pull, or could not find; and a
recreate that stops mounting a volume nothing else mounts leaves that volume, with its
data, rather than removing it, so the plan says it is left behind.
"""

from __future__ import annotations

from reconciler.identity import Address
from reconciler.live.pulls import pull_policies
from reconciler.model import DesiredState, LiveState, MountKind, PullPolicy
from reconciler.plan.actions import (
    CreateContainer,
    Note,
    Plan,
    RecreateContainer,
    RemoveContainer,
    RemoveVolume,
)


def pull_notes(desired: DesiredState) -> tuple[Note, ...]:
    """A note per container whose image apply would pull, or could not find.

    Needs ``desired`` completed with image IDs (live/images.py): no ID, no such image.
    """
    policies = pull_policies(desired)
    notes = []
    for name, container in sorted(desired.containers.items()):
        image, policy = container.image, policies[container.image]
        if policy is PullPolicy.ALWAYS:
            message = f"apply pulls image {image} first (pull: always)"
        elif image in desired.image_ids:
            continue
        elif policy is PullPolicy.MISSING:
            message = f"image {image} is not on the engine; apply pulls it"
        else:
            message = f"image {image} is not on the engine, and pull: never; apply will fail"
        notes.append(Note(Address.container(name), message))
    return tuple(notes)


def released_volume_notes(plan: Plan, desired: DesiredState, live: LiveState) -> tuple[Note, ...]:
    """A note per volume a recreate stops mounting, which nothing mounts after the plan.

    Such a volume (an anonymous one at a path the spec now mounts by name, or the image no
    longer declares) keeps its data, and is never removed here. A container that mounts it
    now but is recreated without it, or inherits it through ``volumes_from`` from one that
    is, does not keep it.
    """
    pruned = {a.name for a in plan.actions if isinstance(a, RemoveVolume)}
    accounted = _mounted_after(plan, desired, live) | pruned
    notes: dict[str, Note] = {}
    for action in plan.actions:
        if not isinstance(action, RecreateContainer):
            continue
        name = action.container.name
        for mount in live.containers[name].mounts:
            volume = mount.name
            if mount.type != "volume" or volume is None or volume in accounted:
                continue
            if volume not in desired.volumes and volume not in notes:
                message = (
                    f"held {name}:{mount.target} and is mounted by nothing after the recreate; "
                    f"it is kept, with its data (`docker volume rm {volume}` once it is not needed)"
                )
                notes[volume] = Note(Address.volume(volume), message)
    return tuple(notes.values())


def _mounted_after(plan: Plan, desired: DesiredState, live: LiveState) -> set[str]:
    """Every volume some container mounts once ``plan`` is applied: a container the plan
    creates or recreates mounts its own volumes and what its ``volumes_from`` sources
    mount then; one it leaves alone keeps what the engine lists for it now."""
    made: dict[str, CreateContainer | RecreateContainer] = {
        action.container.name: action
        for action in plan.actions
        if isinstance(action, CreateContainer | RecreateContainer)
    }
    removed = {a.name for a in plan.actions if isinstance(a, RemoveContainer)}
    found: dict[str, set[str]] = {}

    def mounted(name: str) -> set[str]:
        if name not in found:
            found[name] = set()  # the loader refused volumes_from cycles
            action = made.get(name)
            container = live.containers.get(name)
            if action is None and container is not None and name not in removed:
                found[name] = {m.name for m in container.mounts if m.name}
            elif action is not None:
                own = {a.name for a in action.anonymous} | {
                    str(m.source) for m in action.container.mounts if m.kind is MountKind.VOLUME
                }
                inherited = (mounted(s.container) for s in action.container.volumes_from)
                found[name] = own.union(*inherited)
        return found[name]

    return set().union(*(mounted(name) for name in {*live.containers, *desired.containers}))
