"""Plan notes about images and the volumes a recreate lets go of. Pure.

A plan never pulls, so it says which images apply would pull, or could not find; and a
recreate that stops mounting a volume nothing else mounts leaves that volume, with its
data, rather than removing it, so the plan says it is left behind.
"""

from __future__ import annotations

from reconciler.identity import Address
from reconciler.live.pulls import pull_policies
from reconciler.model import DesiredState, LiveState, MountKind, PullPolicy
from reconciler.plan.actions import Note, Plan, RecreateContainer


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
        elif container.image_id is not None:
            continue
        elif policy is PullPolicy.MISSING:
            message = f"image {image} is not on the engine; apply pulls it"
        else:
            message = f"image {image} is not on the engine, and pull: never; apply will fail"
        notes.append(Note(Address.container(name), message))
    return tuple(notes)


def released_volume_notes(plan: Plan, desired: DesiredState, live: LiveState) -> tuple[Note, ...]:
    """A note per volume a recreate stops mounting, which nothing else mounts.

    Such a volume (an anonymous one at a path the spec now mounts by name, or the image no
    longer declares) keeps its data, and is never removed here.
    """
    notes = []
    for action in plan.actions:
        if not isinstance(action, RecreateContainer):
            continue
        name = action.container.name
        kept = {a.name for a in action.anonymous} | {
            str(m.source) for m in action.container.mounts if m.kind is MountKind.VOLUME
        }
        for mount in live.containers[name].mounts:
            volume = mount.name
            if mount.type != "volume" or volume is None or volume in kept:
                continue
            others = [c for c in live.containers_using_volume(volume) if c.name != name]
            if volume not in desired.volumes and not others:
                message = (
                    f"held {name}:{mount.target} and is mounted by nothing after the recreate; "
                    f"it is kept, with its data (`docker volume rm {volume}` once it is not needed)"
                )
                notes.append(Note(Address.volume(volume), message))
    return tuple(notes)
