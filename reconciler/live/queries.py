"""Questions asked of the live state with the specs in hand, shared by the later stages. Pure.

Which volumes a declared container's anonymous mounts are, which live resources carry a
project's label but are gone from its specs, and what config volplan recorded on a
container: the differ, the fingerprint, drift and prune all need the same answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler import labels
from reconciler.model import (
    AnonymousVolume,
    DesiredContainer,
    DesiredState,
    LiveContainer,
    LiveState,
    LiveVolume,
    MountKind,
)


def resolve_anonymous(container: DesiredContainer, live: LiveState) -> tuple[AnonymousVolume, ...]:
    """Names for the container's anonymous volumes: the ones it already has, else stable ones.

    Reusing the live container's volume at the same target is what keeps a data-volume
    container's data through a recreate.
    """
    current = live.containers.get(container.name)
    resolved = []
    for mount in container.mounts:
        if mount.kind is not MountKind.ANONYMOUS:
            continue
        existing = current.mount_at(mount.target) if current else None
        if existing is not None and existing.type == "volume" and existing.name:
            name = existing.name
        else:
            name = labels.anonymous_volume_name(container.project, container.name, mount.target)
        resolved.append(
            AnonymousVolume(mount.target, name, name in live.volumes, from_image=mount.from_image)
        )
    return tuple(resolved)


def recorded_config(live: LiveContainer) -> dict[str, Any]:
    """The config volplan recorded when it created the container ({} if unreadable)."""
    try:
        config = json.loads(live.labels.get(labels.CONFIG, "{}"))
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


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
