"""Stage 1: spec files -> one validated ``DesiredState``.

Every problem found is collected (not just the first) and raised together as a
``SpecError``, each with the file:line:column of the offending value. A volume or container
that breaks the schema is set aside, not its whole document: the rest of the document is
still checked for references and topology in the same run, and references to what was set
aside are not reported as undeclared (it is declared, only wrongly).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from reconciler.errors import Position, Problem, SpecError
from reconciler.gc_paused import gc_paused
from reconciler.model import (
    DesiredContainer,
    DesiredState,
    DesiredVolume,
    Mount,
    MountKind,
    PullPolicy,
    RunState,
    VolumesFrom,
)
from reconciler.spec.files import SpecSource
from reconciler.spec.mount_syntax import is_relative_path, normalise_host_path
from reconciler.spec.positions import problems_from_validation
from reconciler.spec.schema import ContainerSpec, MountSpec, SpecDocument, VolumeSpec
from reconciler.spec.topology import check_topology
from reconciler.spec.yaml_source import Document, parse_documents


def build_desired_state(sources: list[SpecSource]) -> DesiredState:
    """The stage itself, uncached; callers go through ``pipeline.load``, which caches it."""
    with gc_paused():
        return _build(sources)


def _build(sources: list[SpecSource]) -> DesiredState:
    problems: list[Problem] = []
    volumes: dict[str, DesiredVolume] = {}
    containers: dict[str, DesiredContainer] = {}
    helper_images: dict[str, Position] = {}
    unparsed = _Unparsed()
    for source, document, spec in _validated_documents(sources, problems, unparsed):
        if spec.helper_image is not None:
            helper_images.setdefault(spec.helper_image, document.position_of(("helper_image",)))
        for name, volume in spec.volumes.items():
            desired_volume = _desired_volume(document, spec.project, name, volume)
            _add_unique(volumes, desired_volume, "volume", problems)
        for name, container in spec.containers.items():
            desired = _desired_container(source, document, spec.project, name, container)
            _add_unique(containers, desired, "container", problems)
    problems += check_topology(
        volumes,
        containers,
        unparsed_volumes=unparsed.volumes,
        unparsed_containers=unparsed.containers,
    )
    problems += _one_helper_image(helper_images)
    if problems:
        raise SpecError(problems)
    return DesiredState(
        volumes=volumes, containers=containers, helper_image=next(iter(helper_images), None)
    )


def _one_helper_image(images: dict[str, Position]) -> list[Problem]:
    """Every document that names a helper image must name the same one."""
    if len(images) <= 1:
        return []
    first, *others = images.items()
    return [
        Problem(
            position,
            "helper_image",
            f"helper_image {image!r} differs from {first[0]!r} (at {first[1]}); "
            "name one helper image for the whole spec directory",
            "conflicting-helper-image",
        )
        for image, position in others
    ]


@dataclass
class _Unparsed:
    """Names of the volumes and containers set aside for schema errors."""

    volumes: set[str] = field(default_factory=set)
    containers: set[str] = field(default_factory=set)


def _validated_documents(
    sources: list[SpecSource], problems: list[Problem], unparsed: _Unparsed
) -> list[tuple[SpecSource, Document, SpecDocument]]:
    validated = []
    for source in sources:
        try:
            documents = parse_documents(source.display_name, source.raw)
        except SpecError as exc:
            problems += exc.problems
            continue
        for document in documents:
            try:
                validated.append((source, document, SpecDocument.model_validate(document.data)))
            except ValidationError as exc:
                problems += problems_from_validation(document, exc)
                rest = _without_broken_parts(document.data, exc, unparsed)
                if rest is not None:
                    validated.append((source, document, rest))
    return validated


def _without_broken_parts(
    data: Any, error: ValidationError, unparsed: _Unparsed
) -> SpecDocument | None:
    """The document without the volumes and containers that failed, when only those did
    (a bad ``version`` or ``project`` leaves nothing to check the rest against)."""
    broken: dict[str, set[str]] = {"volumes": set(), "containers": set()}
    for detail in error.errors(include_url=False):
        section, name = (*detail["loc"], None, None)[:2]
        if section not in broken or not isinstance(name, str) or not isinstance(data, dict):
            return None
        broken[section].add(name)
    rest = {
        key: {k: v for k, v in value.items() if k not in broken[key]} if key in broken else value
        for key, value in data.items()
    }
    try:
        document = SpecDocument.model_validate(rest)
    except ValidationError:
        return None
    unparsed.volumes |= broken["volumes"]
    unparsed.containers |= broken["containers"]
    return document


def _add_unique(
    registry: dict[str, DesiredVolume] | dict[str, DesiredContainer],
    resource: DesiredVolume | DesiredContainer,
    kind: str,
    problems: list[Problem],
) -> None:
    first = registry.get(resource.name)
    if first is None:
        registry[resource.name] = resource  # type: ignore[assignment]
        return
    problems.append(
        Problem(
            resource.origin,
            f"{kind}s.{resource.name}",
            f"{kind} {resource.name!r} is defined twice (first at {first.origin})",
            "duplicate-definition",
        )
    )


def _desired_volume(document: Document, project: str, name: str, spec: VolumeSpec) -> DesiredVolume:
    return DesiredVolume(
        name=name,
        project=project,
        origin=document.position_of(("volumes", name)),
        driver=spec.driver,
        driver_opts=dict(spec.driver_opts),
        labels=dict(spec.labels),
        external=spec.external,
        protect=spec.protect,
    )


def _desired_container(
    source: SpecSource, document: Document, project: str, name: str, spec: ContainerSpec
) -> DesiredContainer:
    path = ("containers", name)
    mounts = tuple(_mount(source.folder, m) for m in spec.mounts)
    origins: dict[str, Position] = {
        key: document.position_of((*path, key)) for key in spec.model_fields_set
    }
    for index, mount in enumerate(mounts):
        origins[f"mounts[{mount.target}]"] = document.position_of((*path, "mounts", index))
    for index, entry in enumerate(spec.volumes_from):
        origins[f"volumes_from[{entry.partition(':')[0]}]"] = document.position_of(
            (*path, "volumes_from", index)
        )
    return DesiredContainer(
        name=name,
        project=project,
        origin=document.position_of(path),
        image=spec.image,
        command=tuple(spec.command) if spec.command is not None else None,
        state=RunState(spec.state),
        mounts=mounts,
        volumes_from=tuple(_volumes_from(entry) for entry in spec.volumes_from),
        labels=dict(spec.labels),
        environment=dict(spec.environment),
        network_mode=spec.network_mode,
        restart=spec.restart,
        publish_all=spec.publish_all,
        stop_signal=spec.stop_signal,
        stop_timeout=spec.stop_timeout,
        pull=PullPolicy(spec.pull),
        field_origins=origins,
    )


def _mount(folder: str, spec: MountSpec) -> Mount:
    if spec.source is None:
        kind, source = MountKind.ANONYMOUS, None
    elif spec.type == "bind" or spec.source.startswith("/") or is_relative_path(spec.source):
        kind = MountKind.BIND
        source = normalise_host_path(posixpath.join(folder, spec.source))
    else:
        kind, source = MountKind.VOLUME, spec.source
    return Mount(
        target=spec.target,
        kind=kind,
        source=source,
        read_only=spec.read_only,
        propagation=spec.propagation,
        nocopy=spec.nocopy,
        create_host_path=spec.create_host_path,
        selinux=spec.selinux,
    )


def _volumes_from(entry: str) -> VolumesFrom:
    container, _, mode = entry.partition(":")
    return VolumesFrom(container=container, read_only=mode == "ro")
