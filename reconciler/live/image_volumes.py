"""Image-declared volumes as the container's own anonymous volumes. Pure.

An image's ``VOLUME`` makes the engine create an anonymous volume at that path whenever
it creates a container that mounts nothing there, a fresh and empty one on every
recreate. So volplan declares each such path itself, as an anonymous mount of the
container (``Mount.from_image``): it is made under its stable name and mounted explicitly
(labels.anonymous_volume_name), and a recreate hands it, with its data, to the new
container, as Compose does. A container whose engine made the volume (by hand, or by an
older volplan) keeps it: ``resolve_anonymous`` reuses the volume already at that path.

Docker leaves a path out when any mount of the container lands on it (its own mounts and
those it inherits through ``volumes_from``), and only then; a mount at a parent or child
path does not count. The same rule is applied here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reconciler.model import DesiredContainer, DesiredState, LiveState, Mount, MountKind


def with_image_volumes(desired: DesiredState, live: LiveState) -> DesiredState:
    """``desired`` (with its ``image_ids``, images.py) with every image-declared path a
    container leaves free mounted as its own anonymous volume. Idempotent: a path already
    mounted is left alone. A container with nothing to add is the same object as before,
    so what is derived from it once (labels.py) serves every engine it is planned for."""
    declared = {
        reference: live.image_configs[image_id].volumes
        for reference, image_id in desired.image_ids.items()
        if image_id in live.image_configs
    }
    if not any(declared.values()):
        return desired
    done: dict[str, DesiredContainer] = {}
    for name in desired.containers:
        _complete(name, desired.containers, declared, done)
    return replace(desired, containers=done)


def _complete(
    name: str,
    containers: Mapping[str, DesiredContainer],
    declared: Mapping[str, tuple[str, ...]],
    done: dict[str, DesiredContainer],
) -> DesiredContainer:
    """The container with its image's volumes; its ``volumes_from`` sources first, since
    what they pass on occupies paths too (the loader refused cycles)."""
    if name in done:
        return done[name]
    container = containers[name]
    taken = {m.target for m in container.mounts}
    for source in container.volumes_from:
        _complete(source.container, containers, declared, done)
        taken |= _targets(source.container, done)
    extra = tuple(
        Mount(target=path, kind=MountKind.ANONYMOUS, from_image=True)
        for path in declared.get(container.image, ())
        if path not in taken
    )
    done[name] = replace(container, mounts=(*container.mounts, *extra)) if extra else container
    return done[name]


def _targets(name: str, done: Mapping[str, DesiredContainer]) -> set[str]:
    """Every path mounted in the completed container ``name``, inherited ones included."""
    container = done[name]
    targets = {m.target for m in container.mounts}
    for source in container.volumes_from:
        targets |= _targets(source.container, done)
    return targets
