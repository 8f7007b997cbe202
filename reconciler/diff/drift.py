"""The drift report: how the engine differs from the specs, resource by resource. Pure.

Built from the differ's ``Diff`` (declared resources: in sync, missing, changed) plus what
only the engine shows: resources labelled as the project's that the specs no longer
declare, containers volplan does not manage that mount the project's volumes. Entries are
ordered for a reader: what a fix would destroy first, then changed, missing and the
engine-side findings, in-sync last.

Dangling volumes (used by no container, like ``docker volume ls -f dangling=true``) that no
volplan project claims are kept apart, in ``unclaimed``: on a shared host they are someone
else's (or a failed restore's), so they are information, not drift, unless the caller asks
for them to count (``--include-unclaimed``). Otherwise a scheduled drift check could never
pass on a host where anybody leaves a volume behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from reconciler import labels
from reconciler.diff.differ import Diff, ResourceDiff, Status
from reconciler.errors import Position
from reconciler.identity import Address, ResourceKind
from reconciler.live.queries import find_leftovers
from reconciler.model import Change, DesiredState, EngineInfo, LiveContainer, LiveState


class DriftStatus(StrEnum):
    CHANGED = "changed"
    MISSING = "missing"
    NOT_IN_SPECS = "not-in-specs"
    UNMANAGED_USER = "unmanaged-user"
    DANGLING = "dangling"
    IN_SYNC = "in-sync"


_RANK = {status: rank for rank, status in enumerate(DriftStatus)}

_FROM_DIFF = {
    Status.IN_SYNC: DriftStatus.IN_SYNC,
    Status.ADOPTED: DriftStatus.IN_SYNC,
    Status.MISSING: DriftStatus.MISSING,
    Status.EXTERNAL_MISSING: DriftStatus.MISSING,
    Status.CHANGED: DriftStatus.CHANGED,
    Status.UNMANAGED: DriftStatus.CHANGED,
    Status.STATE: DriftStatus.CHANGED,
    Status.CONFLICT: DriftStatus.CHANGED,
}


@dataclass(frozen=True)
class DriftEntry:
    """One resource's finding; in ``changes`` ``before`` is live and ``after`` desired."""

    kind: ResourceKind
    name: str
    status: DriftStatus
    reason: str
    changes: tuple[Change, ...] = ()
    origin: Position | None = None
    destructive_fix: bool = False
    """Bringing it in line with the specs destroys data (a volume replace or prune)."""

    @property
    def address(self) -> Address:
        return Address(self.kind, self.name)


@dataclass(frozen=True)
class DriftReport:
    engine: EngineInfo
    projects: tuple[str, ...]
    entries: tuple[DriftEntry, ...]
    """The projects' own resources."""
    unclaimed: tuple[DriftEntry, ...] = ()
    """Dangling volumes no volplan project claims: information unless ``include_unclaimed``."""
    include_unclaimed: bool = False

    @property
    def drifted(self) -> tuple[DriftEntry, ...]:
        """What counts as drift: the decision behind the exit code and JUnit failures."""
        own = tuple(e for e in self.entries if e.status is not DriftStatus.IN_SYNC)
        return own + self.unclaimed if self.include_unclaimed else own

    @property
    def counted(self) -> tuple[DriftEntry, ...]:
        """The entries the totals are over: the unclaimed ones only when they count."""
        return self.entries + self.unclaimed if self.include_unclaimed else self.entries

    @property
    def in_sync(self) -> bool:
        return not self.drifted

    def counts(self) -> dict[str, int]:
        """Counted entries per status, every status listed, plus the total."""
        found = [e.status for e in self.counted]
        return {**{s.value: found.count(s) for s in DriftStatus}, "total": len(found)}


def build_drift_report(
    desired: DesiredState, live: LiveState, diff: Diff, *, include_unclaimed: bool = False
) -> DriftReport:
    entries = [
        *(_declared(d, desired) for d in (*diff.volumes.values(), *diff.containers.values())),
        *_not_in_specs(desired, live),
        *_unmanaged_users(desired, live),
    ]
    entries.sort(key=lambda e: (not e.destructive_fix, _RANK[e.status], str(e.address)))
    unclaimed = tuple(sorted(_dangling(desired, live), key=lambda e: str(e.address)))
    return DriftReport(live.engine, desired.projects, tuple(entries), unclaimed, include_unclaimed)


def _declared(diff: ResourceDiff, desired: DesiredState) -> DriftEntry:
    status = _FROM_DIFF[diff.status]
    if diff.kind is ResourceKind.VOLUME:
        origin = desired.volumes[diff.name].origin
        destructive = status is DriftStatus.CHANGED
    else:
        origin = desired.containers[diff.name].origin
        destructive = False
    return DriftEntry(diff.kind, diff.name, status, diff.reason, diff.changes, origin, destructive)


def _not_in_specs(desired: DesiredState, live: LiveState) -> Iterable[DriftEntry]:
    leftovers = find_leftovers(desired, live)
    for container in leftovers.containers:
        project = container.labels.get(labels.PROJECT)
        yield DriftEntry(
            ResourceKind.CONTAINER,
            container.name,
            DriftStatus.NOT_IN_SPECS,
            f"labelled for project {project!r} but not in the specs ({container.status})",
        )
    for volume in leftovers.volumes:
        users = [c.name for c in live.containers_using_volume(volume.name)]
        used = f"used by {', '.join(users)}" if users else "used by no container"
        yield DriftEntry(
            ResourceKind.VOLUME,
            volume.name,
            DriftStatus.NOT_IN_SPECS,
            f"labelled for project {volume.labels.get(labels.PROJECT)!r} but not in the "
            f"specs ({used})",
            destructive_fix=True,
        )


def _project_volumes(desired: DesiredState, live: LiveState) -> set[str]:
    declared = {name for name, v in desired.volumes.items() if not v.external}
    labelled = {
        name for name, v in live.volumes.items() if v.labels.get(labels.PROJECT) in desired.projects
    }
    return declared | labelled


def _unmanaged_users(desired: DesiredState, live: LiveState) -> Iterable[DriftEntry]:
    volumes = _project_volumes(desired, live)
    for container in live.containers.values():
        if container.name in desired.containers or _is_managed(container, desired):
            continue
        held = [m for m in container.mounts if m.name in volumes]
        if held:
            where = ", ".join(
                f"{m.name} at {m.target} ({'ro' if m.read_only else 'rw'})" for m in held
            )
            yield DriftEntry(
                ResourceKind.CONTAINER,
                container.name,
                DriftStatus.UNMANAGED_USER,
                f"{_manager(container)}, but mounts the project's volume {where}",
            )


def _manager(container: LiveContainer) -> str:
    other = container.labels.get(labels.PROJECT)
    return f"managed by volplan project {other!r}" if other else "not managed by volplan"


def _is_managed(container: LiveContainer, desired: DesiredState) -> bool:
    return container.labels.get(labels.PROJECT) in desired.projects


def _dangling(desired: DesiredState, live: LiveState) -> Iterable[DriftEntry]:
    for name, volume in live.volumes.items():
        if (
            name not in desired.volumes
            and labels.PROJECT not in volume.labels
            and not live.containers_using_volume(name)
        ):
            yield DriftEntry(
                ResourceKind.VOLUME,
                name,
                DriftStatus.DANGLING,
                "used by no container and claimed by no volplan project",
            )
