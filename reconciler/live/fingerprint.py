"""Digests that bind a plan to what it was made from: the spec files and the live state. Pure.

A saved plan records both; applying it recomputes them and refuses if either moved. The
live fingerprint covers only what matters to the specs' projects (what they declare, what
carries their label, and what uses their volumes), so unrelated activity on a shared
engine does not make every saved plan stale. Resources that do not exist are part of the
fingerprint by their absence: a plan made against an empty engine cannot be applied twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler import labels
from reconciler.identity import Address
from reconciler.live.queries import resolve_anonymous
from reconciler.model import DesiredState, LiveContainer, LiveState, LiveVolume
from reconciler.spec.files import SpecSource

DIGEST_PREFIX = "sha256:"


def spec_digest(sources: Iterable[SpecSource]) -> str:
    """One digest over every spec file's name and bytes, independent of reading order."""
    files = sorted(
        (source.display_name, hashlib.sha256(source.raw).hexdigest()) for source in sources
    )
    return DIGEST_PREFIX + labels.json_hash(files)


def live_fingerprints(desired: DesiredState, live: LiveState) -> dict[Address, str]:
    """A digest per live resource relevant to the specs' projects, keyed by address."""
    volumes = _relevant_volumes(desired, live)
    containers = {
        name: c
        for name, c in live.containers.items()
        if name in desired.containers
        or c.labels.get(labels.PROJECT) in desired.projects
        or any(m.name in volumes for m in c.mounts)
    }
    prints = {Address.volume(v.name): _volume_print(v) for v in volumes.values()}
    prints |= {Address.container(c.name): _container_print(c) for c in containers.values()}
    return {
        address: DIGEST_PREFIX + labels.json_hash(p)
        for address, p in sorted(prints.items(), key=lambda item: str(item[0]))
    }


def live_digest(fingerprints: Mapping[Address, str]) -> str:
    return DIGEST_PREFIX + labels.json_hash({str(a): d for a, d in fingerprints.items()})


def changed_addresses(before: Mapping[Address, str], after: Mapping[Address, str]) -> list[Address]:
    """Addresses that appeared, disappeared or changed between two fingerprint maps."""
    changed = (a for a in before.keys() | after.keys() if before.get(a) != after.get(a))
    return sorted(changed, key=str)


def _relevant_volumes(desired: DesiredState, live: LiveState) -> dict[str, LiveVolume]:
    anonymous = {
        volume.name
        for container in desired.containers.values()
        for volume in resolve_anonymous(container, live)
    }
    return {
        name: v
        for name, v in live.volumes.items()
        if name in desired.volumes
        or name in anonymous
        or v.labels.get(labels.PROJECT) in desired.projects
    }


def _volume_print(volume: LiveVolume) -> dict[str, Any]:
    return {
        "driver": volume.driver,
        "driver_opts": dict(volume.driver_opts),
        "labels": dict(volume.labels),
        "scope": volume.scope,
    }


def _container_print(container: LiveContainer) -> dict[str, Any]:
    """What the planner reads of a container; ``running`` rather than the raw status, so a
    restarting container does not look changed."""
    return {
        "id": container.id,
        "image": container.image,
        "running": container.running,
        "labels": dict(container.labels),
        "mounts": [m._asdict() for m in container.mounts],
    }
