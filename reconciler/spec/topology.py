"""Checks that span resources: references, ``volumes_from`` cycles, clashing targets. Pure."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet

from reconciler.errors import Problem
from reconciler.model import DesiredContainer, DesiredVolume, Mount, MountKind, RunState


def check_topology(
    volumes: Mapping[str, DesiredVolume],
    containers: Mapping[str, DesiredContainer],
    *,
    unparsed_volumes: AbstractSet[str] = frozenset(),
    unparsed_containers: AbstractSet[str] = frozenset(),
) -> list[Problem]:
    """``unparsed_*``: declared, but set aside for schema errors reported already; a
    reference to one of them is not "undeclared"."""
    problems = list(_undeclared_volumes(volumes, containers, unparsed_volumes))
    problems += _unknown_sources(containers, unparsed_containers)
    problems += check_dependencies(containers, unparsed_containers)
    cyclic = _cyclic_containers(containers)
    problems += (_cycle_problem(containers[name]) for name in sorted(cyclic))
    problems += (
        problem
        for name, container in containers.items()
        if name not in cyclic
        for problem in _clashing_targets(container, containers)
    )
    return problems


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _undeclared_volumes(
    volumes: Mapping[str, DesiredVolume],
    containers: Mapping[str, DesiredContainer],
    unparsed: AbstractSet[str],
) -> Iterable[Problem]:
    for container in containers.values():
        for mount in container.mounts:
            if (
                mount.kind is MountKind.VOLUME
                and mount.source not in volumes
                and mount.source not in unparsed
            ):
                path = f"mounts[{mount.target}]"
                yield Problem(
                    container.origin_of(path),
                    f"containers.{container.name}.{path}",
                    f"volume {mount.source!r} is not declared under 'volumes:' (declare it, "
                    f"or mark it external: true){_did_you_mean(str(mount.source), volumes)}",
                    "undeclared-volume",
                )


def _unknown_sources(
    containers: Mapping[str, DesiredContainer], unparsed: AbstractSet[str]
) -> Iterable[Problem]:
    for container in containers.values():
        for source in container.volumes_from:
            if source.container not in containers and source.container not in unparsed:
                path = f"volumes_from[{source.container}]"
                yield Problem(
                    container.origin_of(path),
                    f"containers.{container.name}.{path}",
                    f"container {source.container!r} is not declared under 'containers:'"
                    f"{_did_you_mean(source.container, containers)}",
                    "undeclared-container",
                )


def check_dependencies(
    containers: Mapping[str, DesiredContainer], unparsed: AbstractSet[str] = frozenset()
) -> Iterable[Problem]:
    """``depends_on`` names declared containers that will start, without a cycle."""
    for container in containers.values():
        for dependency in container.options.depends_on:
            path = f"containers.{container.name}.depends_on.{dependency.container}"
            where = container.origin_of("depends_on")
            target = containers.get(dependency.container)
            if target is None and dependency.container in unparsed:
                continue
            if target is None:
                yield Problem(
                    where,
                    path,
                    f"container {dependency.container!r} is not declared under 'containers:'"
                    f"{_did_you_mean(dependency.container, containers)}",
                    "undeclared-container",
                )
            elif target.state is RunState.CREATED:
                yield Problem(
                    where,
                    path,
                    f"container {dependency.container!r} is never started (state: created), "
                    f"so it never reaches {dependency.condition.value}",
                    "invalid-dependency",
                )
    for name in sorted(_cyclic(containers, _dependencies)):
        yield Problem(
            containers[name].origin_of("depends_on"),
            f"containers.{name}.depends_on",
            f"container {name!r} waits for itself through a depends_on cycle",
            "depends-on-cycle",
        )


def _dependencies(container: DesiredContainer) -> list[str]:
    return [dependency.container for dependency in container.options.depends_on]


def _sources(container: DesiredContainer) -> list[str]:
    return [source.container for source in container.volumes_from]


def _cyclic_containers(containers: Mapping[str, DesiredContainer]) -> set[str]:
    """Names of containers that sit on a ``volumes_from`` cycle."""
    return _cyclic(containers, _sources)


def _cyclic(
    containers: Mapping[str, DesiredContainer],
    edges: Callable[[DesiredContainer], list[str]],
) -> set[str]:
    """Names of containers that sit on a cycle of ``edges``."""
    cyclic: set[str] = set()
    for start in containers:
        stack = edges(containers[start])
        seen: set[str] = set()
        while stack:
            name = stack.pop()
            if name == start:
                cyclic.add(start)
                break
            if name in seen or name not in containers:
                continue
            seen.add(name)
            stack.extend(edges(containers[name]))
    return cyclic


def _cycle_problem(container: DesiredContainer) -> Problem:
    return Problem(
        container.origin_of("volumes_from"),
        f"containers.{container.name}.volumes_from",
        f"container {container.name!r} takes volumes from itself through a volumes_from cycle",
        "volumes-from-cycle",
    )


def inherited_targets(
    container: DesiredContainer,
    containers: Mapping[str, DesiredContainer],
    visiting: frozenset[str] = frozenset(),
) -> list[tuple[str, str]]:
    """(target, where it comes from) for every mount the container ends up with.

    Docker copies every mount point of a ``volumes_from`` source, including the ones that
    source inherited itself, so the walk is transitive. A source already on the walk is
    skipped: a container downstream of a cycle must not recurse forever (the cycle itself
    is reported separately).
    """
    visiting = visiting | {container.name}
    found = [(m.target, f"mounts[{i}] ({_shown(m)})") for i, m in enumerate(container.mounts)]
    for source in container.volumes_from:
        if source.container in containers and source.container not in visiting:
            found += [
                (target, f"volumes_from {source.container}")
                for target, _ in inherited_targets(
                    containers[source.container], containers, visiting
                )
            ]
    return found


def _shown(mount: Mount) -> str:
    """A mount as the spec's short form writes it, so two clashing ones can be told apart."""
    if mount.kind is MountKind.ANONYMOUS:
        return f"an anonymous volume at {mount.target}"
    return f"{mount.source}:{mount.target}"


def _clashing_targets(
    container: DesiredContainer, containers: Mapping[str, DesiredContainer]
) -> Iterable[Problem]:
    """One problem per target that more than one mount claims, naming each of them."""
    claims: dict[str, list[str]] = {}
    for target, origin in inherited_targets(container, containers):
        claims.setdefault(target, [])
        if origin not in claims[target]:  # one volumes_from source may bring it twice
            claims[target].append(origin)
    for target, origins in claims.items():
        if len(origins) > 1:
            path = f"mounts[{target}]"
            listed = ", ".join(origins[:-1]) + f" and {origins[-1]}"
            yield Problem(
                container.origin_of(path),
                f"containers.{container.name}.{path}",
                f"{len(origins)} mounts at {target}: {listed}",
                "duplicate-target",
            )
