"""What ``volplan export`` reads of a live engine: the lists, one inspect per container and
one per distinct image. The conversion into specs is pure (to_spec.py).

volplan's own machinery is left out here: helper and lock containers, the old container
of a recreate cut short, a migration's temporary volume. None of it is a user's resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler import labels
from reconciler.engine.base import Engine
from reconciler.engine.records import ContainerInspect, ImageDefaults
from reconciler.errors import EngineNotFound
from reconciler.live.reader import read_live_state
from reconciler.model import LiveContainer, LiveState

_LOCK_LABEL = labels.PREFIX + "lock"


@dataclass(frozen=True)
class HostSnapshot:
    """The engine's resources as export sees them, keyed by name (images by ID)."""

    live: LiveState
    containers: Mapping[str, ContainerInspect]
    images: Mapping[str, ImageDefaults]
    """The images the containers were made from; an image removed since is missing, and
    then nothing is known to be its default."""


def read_host_snapshot(engine: Engine) -> HostSnapshot:
    live = read_live_state(engine)
    containers = {
        name: engine.inspect_container(container.id)
        for name, container in live.containers.items()
        if is_users(container)
    }
    images: dict[str, ImageDefaults] = {}
    for inspected in containers.values():
        image_id = inspected.settings.image_id
        if image_id and image_id not in images:
            try:
                images[image_id] = engine.image_defaults(image_id)
            except EngineNotFound:
                continue
    volumes = {n: v for n, v in live.volumes.items() if labels.MIGRATION_OF not in v.labels}
    users = {n: c for n, c in live.containers.items() if n in containers}
    return HostSnapshot(LiveState(live.engine, volumes, users, live.images), containers, images)


def is_users(container: LiveContainer) -> bool:
    """A container of the user's, not one of volplan's short-lived or left-over ones."""
    return not (
        labels.HELPER in container.labels
        or any(key.startswith(_LOCK_LABEL) for key in container.labels)
        or container.name.endswith(labels.RECREATE_SUFFIX)
    )
