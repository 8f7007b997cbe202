"""Stage 3, the differ: (DesiredState, LiveState) -> per-resource differences. Pure.

Only what the spec declares is compared, in canonical form on both sides: the driver
defaults to ``local``, engine-internal labels are dropped, mounts are keyed by target.
Containers are compared twice over: their recorded config (the label volplan wrote) against
the spec, and their real mounts against the mounts the spec implies, so a container that
was changed or recreated by hand is caught even though its labels still look right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from reconciler import labels
from reconciler.fieldpath import format_path
from reconciler.gc_paused import gc_paused
from reconciler.identity import Address, ResourceKind
from reconciler.live.queries import recorded_config, resolve_anonymous
from reconciler.memo import by_identity
from reconciler.model import (
    Change,
    DesiredContainer,
    DesiredState,
    DesiredVolume,
    LiveContainer,
    LiveMount,
    LiveState,
    LiveVolume,
    MountKind,
    RunState,
)


class Status(StrEnum):
    IN_SYNC = "in-sync"
    MISSING = "missing"
    CHANGED = "changed"
    ADOPTED = "adopted"
    """An existing volume volplan did not create, whose config matches: used as is."""
    UNMANAGED = "unmanaged"
    """A container of that name exists but volplan did not create it."""
    STATE = "state"
    """A container that only needs starting or stopping."""
    CONFLICT = "conflict"
    EXTERNAL_MISSING = "external-missing"


class ResourceDiff(NamedTuple):
    """One declared resource against the engine. (A tuple, as ``Address``: every diff
    makes one for each declared resource.)"""

    kind: ResourceKind
    name: str
    status: Status
    reason: str
    changes: tuple[Change, ...] = ()

    @property
    def address(self) -> Address:
        return Address(self.kind, self.name)


@dataclass(frozen=True)
class Diff:
    volumes: Mapping[str, ResourceDiff]
    containers: Mapping[str, ResourceDiff]


def diff_states(desired: DesiredState, live: LiveState) -> Diff:
    with gc_paused():
        return _diff_states(desired, live)


def _diff_states(desired: DesiredState, live: LiveState) -> Diff:
    return Diff(
        volumes={
            name: diff_volume(volume, live.volumes.get(name))
            for name, volume in sorted(desired.volumes.items())
        },
        containers={
            name: diff_container(container, desired, live)
            for name, container in sorted(desired.containers.items())
        },
    )


def diff_volume(desired: DesiredVolume, live: LiveVolume | None) -> ResourceDiff:
    def result(status: Status, reason: str, changes: tuple[Change, ...] = ()) -> ResourceDiff:
        return ResourceDiff(ResourceKind.VOLUME, desired.name, status, reason, changes)

    if live is None:
        if desired.external:
            return result(Status.EXTERNAL_MISSING, "external volume does not exist on the engine")
        return result(Status.MISSING, "volume does not exist")
    if desired.external:
        return result(Status.IN_SYNC, "external volume exists")
    owner = live.labels.get(labels.PROJECT)
    if owner is not None and owner != desired.project:
        return result(Status.CONFLICT, f"volume belongs to project {owner!r}")
    changes = field_changes(live_volume_config(live), labels.volume_config(desired))
    if owner is None:
        if changes:
            return result(
                Status.CONFLICT,
                "a volume of that name exists, was not created by volplan, and differs from the "
                "spec; it cannot be changed in place (mark it external: true, or remove it)",
                changes,
            )
        return result(
            Status.ADOPTED,
            f"exists, made without volplan{_made_by(live.labels)}, and matches the spec: used "
            "as is, with its data (a volume cannot be relabelled)",
        )
    if changes:
        return result(
            Status.CHANGED, "volume config differs; volumes cannot be changed in place", changes
        )
    return result(Status.IN_SYNC, "volume matches the spec")


def live_volume_config(live: LiveVolume) -> dict[str, Any]:
    """The live side of ``labels.volume_config``, unsorted: dicts compare equal in any
    order, and a change names the key that differs, not the whole mapping."""
    return {
        "driver": live.driver,
        "driver_opts": live.driver_opts,
        "labels": labels.user_labels(live.labels),
    }


def diff_container(
    desired: DesiredContainer, state: DesiredState, live_state: LiveState
) -> ResourceDiff:
    def result(status: Status, reason: str, changes: tuple[Change, ...] = ()) -> ResourceDiff:
        return ResourceDiff(ResourceKind.CONTAINER, desired.name, status, reason, changes)

    live = live_state.containers.get(desired.name)
    if live is None:
        return result(Status.MISSING, "container does not exist")
    owner = live.labels.get(labels.PROJECT)
    if owner is not None and owner != desired.project:
        return result(Status.CONFLICT, f"container belongs to project {owner!r}")
    mount_changes = _mount_changes(desired, state, live_state)
    state_change = _state_change(desired, live)
    if owner is None:
        listed = _listed_changes(desired, live) + mount_changes
        return result(
            Status.UNMANAGED,
            f"a container of that name exists but was not created by volplan"
            f"{_made_by(live.labels)}; recreated to gain volplan's labels, its anonymous and "
            "image volumes carried over" + ("" if listed else _UNCOMPARED),
            listed + state_change,
        )
    changes = _merge(_config_changes(desired, live), mount_changes)
    moved = image_change(desired, state.image_ids.get(desired.image), live, changes)
    if moved and not changes:
        return result(
            Status.CHANGED,
            f"the image {desired.image} names is another one now; containers are recreated "
            "to change",
            moved + state_change,
        )
    changes += moved
    if changes:
        return result(
            Status.CHANGED,
            "container config differs; containers are recreated to change",
            changes + state_change,
        )
    if state_change:
        return result(
            Status.STATE,
            f"container is {live.status}, spec says {desired.state.value}",
            state_change,
        )
    return result(Status.IN_SYNC, "container matches the spec")


def _config_changes(desired: DesiredContainer, live: LiveContainer) -> tuple[Change, ...]:
    """The recorded config against the spec's; the label is parsed only when its text is
    not the one this spec would record."""
    if live.labels.get(labels.CONFIG) == labels.config_label(desired):
        return ()
    return field_changes(recorded_config(live), labels.container_config(desired))


def _made_by(resource_labels: Mapping[str, str]) -> str:
    """Who made an unlabelled resource, when its labels tell (Compose does)."""
    project = resource_labels.get(labels.COMPOSE_PROJECT)
    return f" (Compose project {project!r} made it)" if project else ""


def image_change(
    desired: DesiredContainer,
    image_id: str | None,
    live: LiveContainer,
    changes: tuple[Change, ...],
) -> tuple[Change, ...]:
    """The image behind an unchanged reference moved (a pull or a build retagged it):
    ``image_id`` is what the spec's reference names on the engine now.

    Unknown on either side (no such image on the engine yet, or a container listed without
    its image ID) is no change: the plan cannot tell, and a pull is shown on its own.
    """
    moved = image_id and live.image_id and image_id != live.image_id
    if not moved or any(c.path == ("image",) for c in changes):
        return ()
    return (Change(("image",), live.image_id, f"{image_id} ({desired.image})"),)


_UNCOMPARED = (
    "; the image, labels and mounts the engine lists for it match the spec, and its other "
    "settings cannot be read back to compare"
)


def _state_change(desired: DesiredContainer, live: LiveContainer) -> tuple[Change, ...]:
    """The run state, listed beside config changes too: a recreate also settles it."""
    if (desired.state is RunState.RUNNING) == live.running:
        return ()
    return (Change(("state",), live.status, desired.state.value),)


def _listed_changes(desired: DesiredContainer, live: LiveContainer) -> tuple[Change, ...]:
    """What a container volplan did not create shows of its config in the engine's list."""
    changes = []
    if normalized_image(live.image) != normalized_image(desired.image):
        changes.append(Change(("image",), live.image, desired.image))
    return (
        *changes,
        *field_changes(
            {"labels": labels.user_labels(live.labels)}, {"labels": dict(desired.labels)}
        ),
    )


def normalized_image(image: str) -> str:
    """An image name in full, as the docker CLI reads it: ``busybox``, ``busybox:latest``
    and ``docker.io/library/busybox:latest`` (how Podman lists it) name one image. The
    first part is a registry only if it has a dot or a port, or is ``localhost``."""
    domain, _, path = image.partition("/")
    if not path or not ("." in domain or ":" in domain or domain == "localhost"):
        domain, path = "docker.io", image
    if domain in {"docker.io", "index.docker.io"}:
        domain = "docker.io"
        path = path if "/" in path else f"library/{path}"
    last = path.rsplit("/", 1)[-1]
    return f"{domain}/{path}" if ":" in last or "@" in last else f"{domain}/{path}:latest"


def field_changes(before: Any, after: Any) -> tuple[Change, ...]:
    """Field-level differences; a change inside a list is reported for the whole list.

    Most resources are unchanged, and a plain ``==`` says so a hundred times faster than
    deepdiff, which is imported only when something did change (it takes 0.1 s to import).
    """
    if before == after:
        return ()
    from deepdiff import DeepDiff  # noqa: PLC0415 - see the docstring

    tree = DeepDiff(before, after, view="tree", verbose_level=2)
    changes: dict[tuple[str | int, ...], Change] = {}
    for report in tree.values():
        for level in report:
            path = _up_to_list(level.path(output_format="list"))
            changes.setdefault(path, Change(path, _value_at(before, path), _value_at(after, path)))
    return tuple(sorted(changes.values(), key=lambda change: format_path(change.path)))


def _up_to_list(path: list[str | int]) -> tuple[str | int, ...]:
    for index, segment in enumerate(path):
        if isinstance(segment, int):
            return tuple(path[:index])
    return tuple(path)


def _value_at(data: Any, path: tuple[str | int, ...]) -> Any:
    for segment in path:
        if not isinstance(data, dict) or segment not in data:
            return None
        data = data[segment]
    return data


def _merge(config: tuple[Change, ...], mounts: tuple[Change, ...]) -> tuple[Change, ...]:
    """Config changes, plus the mount changes they do not already explain."""
    explained = {c.path[:2] for c in config if len(c.path) > 1 and c.path[0] == "mounts"}
    return (*config, *(m for m in mounts if m.path not in explained))


class _MountView(NamedTuple):
    """A mount reduced to what both the spec and the engine's Mounts list can say; a
    tuple, since every container's every mount makes one on each side, every plan."""

    type: str
    source: str
    read_only: bool
    propagation: str

    def __str__(self) -> str:
        flags = ["ro" if self.read_only else "rw"]
        if self.type == "bind" and self.propagation != "rprivate":
            flags.append(self.propagation)
        return f"{self.type} {self.source} ({','.join(flags)})"


def expected_mounts(
    container: DesiredContainer, state: DesiredState, live: LiveState
) -> dict[str, _MountView]:
    """Every mount the container should show, its own and those inherited via volumes_from."""
    views: dict[str, _MountView] = {}
    for source in container.volumes_from:
        inherited = expected_mounts(state.containers[source.container], state, live)
        for target, view in inherited.items():
            views[target] = view._replace(read_only=True) if source.read_only else view
    declared, anonymous = _own_mounts(container)
    views |= declared
    if anonymous:
        names = {a.target: a.name for a in resolve_anonymous(container, live)}
        for target, read_only in anonymous:
            views[target] = _MountView("volume", names[target], read_only, "")
    return views


@by_identity
def _own_mounts(
    container: DesiredContainer,
) -> tuple[dict[str, _MountView], tuple[tuple[str, bool], ...]]:
    """The container's binds and named volumes as any engine shows them, and the targets
    (with read_only) of its anonymous volumes, whose names depend on the engine: the
    first are the same on every engine, so a fleet works them out once."""
    declared: dict[str, _MountView] = {}
    anonymous: list[tuple[str, bool]] = []
    for mount in container.mounts:
        if mount.kind is MountKind.BIND:
            declared[mount.target] = _MountView(
                "bind", str(mount.source), mount.read_only, mount.propagation or "rprivate"
            )
        elif mount.kind is MountKind.ANONYMOUS:
            anonymous.append((mount.target, mount.read_only))
        else:
            declared[mount.target] = _MountView("volume", str(mount.source), mount.read_only, "")
    return declared, tuple(anonymous)


def _live_view(mount: LiveMount) -> _MountView:
    if mount.type == "bind":
        return _MountView("bind", mount.source, mount.read_only, mount.propagation or "rprivate")
    return _MountView(mount.type, mount.name or mount.source, mount.read_only, "")


def _inherited_binds(
    container: DesiredContainer, state: DesiredState, live: LiveState
) -> dict[str, _MountView]:
    """The binds ``container`` inherits through volumes_from, read from its live sources.

    Podman (4.3) mounts them but leaves them out of the consumer's Mounts (volumes it
    lists; test_podman_differences pins it), which would plan a recreate on every run. The
    sources are the spec's: a consumer whose volumes_from changed differs in its recorded
    config already.
    """
    views: dict[str, _MountView] = {}
    for source in container.volumes_from:
        live_source = live.containers.get(source.container)
        if live_source is None or source.container not in state.containers:
            continue
        binds = _inherited_binds(state.containers[source.container], state, live)
        binds |= {m.target: _live_view(m) for m in live_source.mounts if m.type == "bind"}
        for target, view in binds.items():
            views[target] = view._replace(read_only=view.read_only or source.read_only)
    return views


def _mount_changes(
    desired: DesiredContainer, state: DesiredState, live_state: LiveState
) -> tuple[Change, ...]:
    live = live_state.containers[desired.name]
    expected = expected_mounts(desired, state, live_state)
    actual = {m.target: _live_view(m) for m in live.mounts}
    if live_state.engine.is_podman:
        actual = _inherited_binds(desired, state, live_state) | actual
    if actual == expected:
        return ()
    return tuple(
        Change(
            ("mounts", target),
            str(actual[target]) if target in actual else None,
            str(expected[target]) if target in expected else None,
        )
        for target in sorted(expected.keys() | actual.keys())
        if expected.get(target) != actual.get(target)
    )
