"""Stage 5, the applier: executes a ``Plan`` through an ``Engine`` and reports each result.

It stops at the first failed action and says exactly what was done and what was not.
Nothing here removes a volume except ``ReplaceVolume`` and ``RemoveVolume`` (prune), which
the CLI lets through only with an explicit opt-in, and no container is ever removed with
its volumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from reconciler import labels
from reconciler.actions import (
    Action,
    AnonymousVolume,
    CreateContainer,
    CreateVolume,
    Plan,
    RecreateContainer,
    RemoveContainer,
    RemoveVolume,
    ReplaceVolume,
    StartContainer,
    StopContainer,
    describe,
)
from reconciler.engine.base import ContainerCreate, Engine, VolumeCreate
from reconciler.errors import ApplyError, VolplanError
from reconciler.model import DesiredContainer, DesiredVolume, Mount, MountKind, RunState

RECREATE_SUFFIX = "_volplan-old"
"""The old container's name while its replacement is made; a leftover marks a cut-off run."""


@dataclass(frozen=True)
class ActionResult:
    action: Action
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ApplyReport:
    done: tuple[ActionResult, ...] = ()
    failed: ActionResult | None = None
    not_done: tuple[Action, ...] = ()


@dataclass(frozen=True)
class ApplyListener:
    """Callbacks the CLI uses to show progress; the defaults do nothing."""

    on_pull: Callable[[str, str], None] = field(default=lambda image, status: None)
    on_start: Callable[[Action], None] = field(default=lambda action: None)
    on_result: Callable[[ActionResult], None] = field(default=lambda result: None)


def apply_plan(plan: Plan, engine: Engine, listener: ApplyListener | None = None) -> ApplyReport:
    """Run every action in order; raise ``ApplyError`` carrying the report on the first failure."""
    listener = listener or ApplyListener()
    ensure_images(plan, engine, listener)
    done: list[ActionResult] = []
    for index, action in enumerate(plan.actions):
        listener.on_start(action)
        started = time.monotonic()
        try:
            execute(action, engine)
        except VolplanError as exc:
            failed = ActionResult(action, time.monotonic() - started, str(exc))
            listener.on_result(failed)
            report = ApplyReport(tuple(done), failed, plan.actions[index + 1 :])
            shown = describe(action)
            raise ApplyError(f"{shown.verb} {shown.address} failed: {exc}", report) from exc
        result = ActionResult(action, time.monotonic() - started)
        done.append(result)
        listener.on_result(result)
    return ApplyReport(tuple(done))


def ensure_images(plan: Plan, engine: Engine, listener: ApplyListener) -> None:
    """Pull missing images before anything changes, so a bad image name touches nothing."""
    images = sorted(
        {
            a.container.image
            for a in plan.actions
            if isinstance(a, CreateContainer | RecreateContainer)
        }
    )
    for image in images:
        if not engine.image_present(image):
            engine.pull_image(image, partial(listener.on_pull, image))


def execute(action: Action, engine: Engine) -> None:
    match action:
        case CreateVolume(volume=volume):
            engine.create_volume(volume_request(volume))
        case ReplaceVolume(volume=volume):
            engine.remove_volume(volume.name)
            engine.create_volume(volume_request(volume))
        case RemoveVolume(name=name):
            engine.remove_volume(name)
        case CreateContainer(container=container, anonymous=anonymous):
            _create_and_start(engine, container, anonymous)
        case RecreateContainer():
            _recreate(engine, action)
        case RemoveContainer(name=name, old_id=old_id, was_running=was_running):
            if was_running:
                engine.stop_container(old_id, action.stop_timeout)
            engine.remove_container(old_id)
        case StartContainer(name=name):
            engine.start_container(name)
        case StopContainer(name=name, stop_timeout=timeout):
            engine.stop_container(name, timeout)


def volume_request(volume: DesiredVolume) -> VolumeCreate:
    return VolumeCreate(
        name=volume.name,
        driver=volume.driver,
        driver_opts=volume.driver_opts,
        labels=labels.volume_labels(volume),
    )


def container_request(
    container: DesiredContainer, anonymous: tuple[AnonymousVolume, ...]
) -> ContainerCreate:
    names = {a.target: a.name for a in anonymous}
    mounts = tuple(
        Mount(
            target=m.target,
            kind=MountKind.VOLUME,
            source=names[m.target],
            read_only=m.read_only,
            nocopy=m.nocopy,
        )
        if m.kind is MountKind.ANONYMOUS
        else m
        for m in container.mounts
    )
    return ContainerCreate(
        name=container.name,
        image=container.image,
        command=container.command,
        labels=labels.container_labels(container),
        mounts=mounts,
        volumes_from=tuple(
            f"{vf.container}:{'ro' if vf.read_only else 'rw'}" for vf in container.volumes_from
        ),
        environment=container.environment,
        network_mode=container.network_mode,
        restart=container.restart,
        publish_all=container.publish_all,
        stop_signal=container.stop_signal,
        stop_timeout=container.stop_timeout,
    )


def _create_and_start(
    engine: Engine, container: DesiredContainer, anonymous: tuple[AnonymousVolume, ...]
) -> str:
    for volume in anonymous:
        if not volume.exists:
            engine.create_volume(
                VolumeCreate(
                    name=volume.name,
                    driver="local",
                    driver_opts={},
                    labels=labels.anonymous_volume_labels(
                        container.project, container.name, volume.target
                    ),
                )
            )
    container_id = engine.create_container(container_request(container, anonymous))
    if container.state is RunState.RUNNING:
        try:
            engine.start_container(container_id)
        except VolplanError:
            engine.remove_container(container_id)
            raise
    return container_id


def _recreate(engine: Engine, action: RecreateContainer) -> None:
    """Keep the old container, stopped and renamed, until its replacement runs.

    If the replacement cannot be created or started, the old one gets its name back and
    is started again, so a failed recreate leaves things as they were.
    """
    container = action.container
    if action.was_running:
        engine.stop_container(action.old_id, container.stop_timeout)
    engine.rename_container(action.old_id, container.name + RECREATE_SUFFIX)
    try:
        _create_and_start(engine, container, action.anonymous)
    except VolplanError:
        engine.rename_container(action.old_id, container.name)
        if action.was_running:
            engine.start_container(action.old_id)
        raise
    engine.remove_container(action.old_id)
