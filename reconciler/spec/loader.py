"""Stage 1: spec files -> one validated ``DesiredState``.

Every problem found is collected (not just the first) and raised together as a
``SpecError``, each with the file:line:column of the offending value. A volume or container
that breaks the schema is set aside, not its whole document: the rest of the document is
still checked for references and topology in the same run, and references to what was set
aside are not reported as undeclared (it is declared, only wrongly).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from reconciler.container_options import (
    Condition,
    ContainerOptions,
    Dependency,
    Healthcheck,
    NetworkAttachment,
    Ulimit,
    capability_name,
)
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
from reconciler.spec.placement import shown_labels
from reconciler.spec.ports import parse_port
from reconciler.spec.positions import problems_from_validation
from reconciler.spec.schema import (
    ContainerSpec,
    HealthcheckSpec,
    MountSpec,
    SpecDocument,
    UlimitSpec,
    VolumeSpec,
)
from reconciler.spec.system_paths import is_system_path
from reconciler.spec.topology import check_topology
from reconciler.spec.variables import (
    DOTENV_NAME,
    DotenvError,
    Variables,
    read_env_file,
    shown_path,
)
from reconciler.spec.yaml_source import Document, parse_documents


def build_desired_state(
    sources: list[SpecSource],
    environment: Mapping[str, str] | None = None,
    target_variables: Mapping[str, str] | None = None,
) -> DesiredState:
    """The stage itself, uncached; callers go through ``pipeline.load``, which caches it.

    Values are interpolated from a target's ``target_variables`` (a targets file's), then
    ``environment`` (default: this process's), then the ``.env`` in each spec file's folder."""
    inputs = _Inputs(os.environ if environment is None else environment, target_variables or {})
    with gc_paused():
        return _build(sources, inputs)


def interpolated_documents(
    sources: list[SpecSource], environment: Mapping[str, str] | None = None
) -> list[tuple[str, list[Any]]]:
    """Each file's documents as plain data after interpolation, for ``--show-interpolated``."""
    inputs = _Inputs(os.environ if environment is None else environment)
    problems: list[Problem] = []
    shown = []
    for source in sources:
        variables = inputs.variables(source.folder, problems)
        documents = parse_documents(source.display_name, source.raw, variables)
        shown.append((source.display_name, [document.data for document in documents]))
    if problems:
        raise SpecError(problems)
    return shown


@dataclass
class _Inputs:
    """What the specs read besides their own bytes, recorded for the cache and the policy."""

    environment: Mapping[str, str]
    target: Mapping[str, str] = field(default_factory=dict)
    dotenv: dict[str, Variables] = field(default_factory=dict)
    files_read: dict[str, None] = field(default_factory=dict)

    def variables(self, folder: str, problems: list[Problem]) -> Variables:
        """The variables of specs in ``folder``: the environment, then the folder's ``.env``."""
        if folder not in self.dotenv:
            path = os.path.join(folder, DOTENV_NAME)
            dotenv = self.read(path, None, problems)
            self.dotenv[folder] = Variables(self.environment, dotenv, self.target)
        return self.dotenv[folder]

    def read(
        self, path: str, required_at: Position | None, problems: list[Problem]
    ) -> dict[str, str]:
        """A dotenv file's values ({} when absent, a problem if ``required_at``). Problems
        name the file and line only, never a value: the file may hold secrets."""
        self.files_read[path] = None
        position = required_at or Position(shown_path(path), 1, 1)
        try:
            values = read_env_file(path)
            if values is None and required_at is not None:
                problems.append(
                    Problem(position, "", f"env_file {shown_path(path)} does not exist", "env-file")
                )
            return values or {}
        except DotenvError as exc:
            where = Position(shown_path(path), exc.line, 1)
            problems.append(Problem(where, "", str(exc).partition(": ")[2], "env-file"))
        except OSError as exc:
            problems.append(
                Problem(position, "", f"cannot read {shown_path(path)}: {exc.strerror}", "env-file")
            )
        return {}


def _build(sources: list[SpecSource], inputs: _Inputs) -> DesiredState:
    problems: list[Problem] = []
    volumes: dict[str, DesiredVolume] = {}
    containers: dict[str, DesiredContainer] = {}
    helper_images: dict[str, Position] = {}
    placement: dict[str, tuple[dict[str, str], Position]] = {}
    unparsed = _Unparsed()
    for source, document, spec in _validated_documents(sources, inputs, problems, unparsed):
        if spec.helper_image is not None:
            helper_images.setdefault(spec.helper_image, document.position_of(("helper_image",)))
        problems += _one_placement(placement, document, spec)
        for name, volume in spec.volumes.items():
            desired_volume = _desired_volume(document, spec.project, name, volume)
            _add_unique(volumes, desired_volume, "volume", problems)
        for name, container in spec.containers.items():
            desired = _desired_container(source, document, spec.project, name, container)
            desired = _with_env_files(desired, source.folder, inputs, problems)
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
        volumes=volumes,
        containers=containers,
        helper_image=next(iter(helper_images), None),
        variables=tuple(use for v in inputs.dotenv.values() for use in v.uses),
        files_read=tuple(inputs.files_read),
        placement={project: labels for project, (labels, _) in placement.items() if labels},
    )


def _one_placement(
    seen: dict[str, tuple[dict[str, str], Position]], document: Document, spec: SpecDocument
) -> list[Problem]:
    """Every document of a project must send it to the same targets: a project split over
    engines would have each half pruned as leftovers by the other's plan."""
    labels = dict(spec.targets.labels) if spec.targets is not None else {}
    where = ("targets",) if spec.targets is not None else ("project",)
    position = document.position_of(where)
    first = seen.setdefault(spec.project, (labels, position))
    if first[0] == labels:
        return []
    return [
        Problem(
            position,
            ".".join(where),
            f"project {spec.project!r} goes to targets labelled {shown_labels(labels)} here "
            f"but {shown_labels(first[0])} at {first[1]}: every document of a project needs "
            "the same targets: labels",
            "conflicting-targets",
        )
    ]


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
    sources: list[SpecSource], inputs: _Inputs, problems: list[Problem], unparsed: _Unparsed
) -> list[tuple[SpecSource, Document, SpecDocument]]:
    validated = []
    for source in sources:
        variables = inputs.variables(source.folder, problems)
        try:
            documents = parse_documents(source.display_name, source.raw, variables)
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
        options=_options(source.folder, spec),
        pull=PullPolicy(spec.pull),
        field_origins=origins,
    )


def _options(folder: str, spec: ContainerSpec) -> ContainerOptions:
    return ContainerOptions(
        entrypoint=tuple(spec.entrypoint) if spec.entrypoint is not None else None,
        user=spec.user,
        working_dir=posixpath.normpath(spec.working_dir) if spec.working_dir else None,
        hostname=spec.hostname,
        init=spec.init,
        read_only=spec.read_only,
        shm_size=spec.shm_size,
        tmpfs=dict(sorted(spec.tmpfs.items())),
        cap_add=tuple(capability_name(c) for c in spec.cap_add),
        cap_drop=tuple(capability_name(c) for c in spec.cap_drop),
        ulimits=tuple(_ulimit(name, value) for name, value in sorted(spec.ulimits.items())),
        mem_limit=spec.mem_limit,
        cpus=spec.cpus,
        pids_limit=spec.pids_limit,
        healthcheck=_healthcheck(spec.healthcheck) if spec.healthcheck else None,
        env_file=tuple(normalise_host_path(posixpath.join(folder, p)) for p in spec.env_file),
        ports=tuple(sorted({b for entry in spec.ports for b in parse_port(entry)})),
        networks=tuple(
            NetworkAttachment(name, tuple(network.aliases) if network else ())
            for name, network in sorted(spec.networks.items())
        ),
        depends_on=tuple(
            Dependency(name, Condition(dependency.condition))
            for name, dependency in sorted(spec.depends_on.items())
        ),
    )


def _ulimit(name: str, value: UlimitSpec | int) -> Ulimit:
    if isinstance(value, int):
        return Ulimit(name, value, value)
    return Ulimit(name, value.soft, value.hard)


def _healthcheck(spec: HealthcheckSpec) -> Healthcheck:
    if spec.disable:
        return Healthcheck(test=("NONE",))
    test = spec.test
    return Healthcheck(
        test=("CMD-SHELL", test) if isinstance(test, str) else tuple(test) if test else None,
        interval=spec.interval,
        timeout=spec.timeout,
        retries=spec.retries,
        start_period=spec.start_period,
    )


def _with_env_files(
    container: DesiredContainer, folder: str, inputs: _Inputs, problems: list[Problem]
) -> DesiredContainer:
    """The container with its env files' values under its own ``environment`` (which wins,
    as in Compose; a later file wins over an earlier one)."""
    if not container.options.env_file:
        return container
    from_files: dict[str, str] = {}
    origin: dict[str, str] = {}
    position = container.origin_of("env_file")
    for index, path in enumerate(container.options.env_file):
        if is_system_path(path) or is_system_path(os.path.realpath(path)):
            problems.append(
                Problem(
                    position,
                    f"containers.{container.name}.env_file[{index}]",
                    f"env_file {path} is denied by the built-in policy: volplan never reads a file "
                    "under a system path (/etc, /root, ~/.ssh, /proc…) into a container's "
                    "environment",
                    "host-path-denied",
                )
            )
            continue
        values = inputs.read(path, position, problems)
        from_files.update(values)
        origin.update(dict.fromkeys(values, _relative_to(path, folder)))
    own = container.environment
    return replace(
        container,
        environment={**from_files, **own},
        env_from_file={key: name for key, name in origin.items() if key not in own},
    )


def _relative_to(path: str, folder: str) -> str:
    """``path`` as the spec would write it: the same wherever volplan runs."""
    relative = posixpath.relpath(path, folder)
    return path if relative.startswith("..") else relative


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
