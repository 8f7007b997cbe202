"""Stage 5, the applier: executes a ``Plan`` through an ``Engine`` and reports each result.

Independent actions run side by side (see scheduler.py). After a failure, what depends on
it never starts, the rest still runs unless the engine is gone, and a second failure stops
everything; the report says exactly what was done, what failed and what was not done.
Nothing here removes a volume except ``ReplaceVolume`` and ``RemoveVolume`` (prune), and
``apply_plan`` itself refuses those unless its options allow data loss, whoever calls it;
no container is ever removed with its volumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from functools import partial
from typing import assert_never

from reconciler import labels
from reconciler.apply.dependencies import wait_for_dependencies
from reconciler.apply.interrupt import Interruption
from reconciler.apply.safety_steps import run_safety_step
from reconciler.apply.scheduler import run_actions
from reconciler.engine.base import ContainerCreate, Engine, VolumeCreate, ensure_image
from reconciler.errors import ApplyError, EngineUnreachable, RefusedError, VolplanError
from reconciler.model import (
    AnonymousVolume,
    DesiredContainer,
    DesiredVolume,
    MountKind,
    RunState,
)
from reconciler.plan.actions import (
    Action,
    BackupVolume,
    CopyVolume,
    CreateContainer,
    CreateVolume,
    FinishRecreate,
    Plan,
    RecreateContainer,
    RemoveContainer,
    RemoveTemporaryVolume,
    RemoveVolume,
    ReplaceVolume,
    StartContainer,
    StopContainer,
    describe,
)

RECREATE_SUFFIX = labels.RECREATE_SUFFIX


@dataclass(frozen=True)
class ActionResult:
    action: Action
    seconds: float
    error: str | None = None
    fatal: bool = False
    """The failure stops the whole run (the engine is gone), not just what depends on it."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ApplyReport:
    done: tuple[ActionResult, ...] = ()
    failed: ActionResult | None = None
    not_done: tuple[Action, ...] = ()
    also_failed: tuple[ActionResult, ...] = ()
    """Actions that failed after ``failed`` (side by side with it, or after it), in order."""


@dataclass(frozen=True)
class ApplyListener:
    """Callbacks the CLI uses to show progress; the defaults do nothing."""

    on_pull: Callable[[str, str], None] = field(default=lambda image, status: None)
    on_start: Callable[[Action], None] = field(default=lambda action: None)
    on_result: Callable[[ActionResult], None] = field(default=lambda result: None)


@dataclass(frozen=True)
class ApplyOptions:
    allow_data_loss: bool = False
    """Let through the actions that destroy data (``Plan.destructive``)."""
    parallelism: int = 1
    saved_plan: bool = False
    """The plan was saved: its options cannot change, so a refusal says to make it again."""
    present_images: tuple[str, ...] = ()
    """Images known to be on the engine (pulled just before): not checked again."""
    interruption: Interruption | None = None
    """A stop a signal may ask (a fleet's: interrupt.py): then no new action starts."""


def refuse_data_loss(plan: Plan, options: ApplyOptions) -> None:
    """Raise ``RefusedError`` if the plan destroys data and the options do not allow it."""
    if plan.destructive and not options.allow_data_loss:
        names = ", ".join(f"{describe(a).address} ({describe(a).verb})" for a in plan.destructive)
        again = "make the plan again with" if options.saved_plan else "re-run with"
        raise RefusedError(
            f"refusing to destroy data: {names} would lose its content. "
            f"Back it up, then {again} --allow-data-loss (or, for a replaced volume, "
            "with --migrate, which keeps its content)."
        )


def apply_plan(
    plan: Plan, engine: Engine, listener: ApplyListener | None = None, *, options: ApplyOptions
) -> ApplyReport:
    """Run the actions, independent ones side by side on ``options.parallelism`` workers.

    Nothing runs if the plan destroys data that ``options`` do not allow to lose. On a
    failure, raise ``ApplyError`` carrying the report. After a failure, the actions that
    do not depend on it (through ``requires``) still run, unless the engine is gone; a
    second failure stops everything. One worker runs the plan strictly in order.
    """
    refuse_data_loss(plan, options)
    listener = listener or ApplyListener()
    ensure_images(plan, engine, listener, options.present_images)
    scheduled = run_actions(
        plan.actions,
        partial(_run, engine=engine),
        parallelism=options.parallelism,
        on_start=listener.on_start,
        on_result=listener.on_result,
        interrupted=None if options.interruption is None else options.interruption.requested,
    )
    failures = [r for r in scheduled.results if not r.ok]
    done = tuple(r for r in scheduled.results if r.ok)
    if not failures and scheduled.not_started and options.interruption is not None:
        raise ApplyError(
            f"stopped by {options.interruption.name}: of the plan's actions {len(done)} done, "
            f"{len(scheduled.not_started)} never started",
            ApplyReport(done, not_done=scheduled.not_started),
        )
    if not failures:
        return ApplyReport(done)
    first = failures[0]
    report = ApplyReport(done, first, scheduled.not_started, also_failed=tuple(failures[1:]))
    shown = describe(first.action)
    if first.fatal:
        raise ApplyError(
            f"the Docker engine did not answer during {shown.verb} {shown.address}, so the "
            "apply stopped there. Run volplan apply again once the engine answers: it "
            "continues from here",
            report,
        )
    raise ApplyError(f"{shown.verb} {shown.address} failed: {first.error}", report)


def _run(action: Action, engine: Engine) -> ActionResult:
    started = time.monotonic()
    try:
        execute(action, engine)
    except VolplanError as exc:
        fatal = isinstance(exc, EngineUnreachable)
        error = "; ".join([str(exc), *getattr(exc, "__notes__", ())])
        return ActionResult(action, time.monotonic() - started, error, fatal=fatal)
    return ActionResult(action, time.monotonic() - started)


def ensure_images(
    plan: Plan, engine: Engine, listener: ApplyListener, present: Collection[str] = ()
) -> None:
    """Pull missing images before anything changes, so a bad image name touches nothing."""
    images = sorted({image for a in plan.actions if (image := _image_of(a))} - set(present))
    for image in images:
        ensure_image(engine, image, partial(listener.on_pull, image))


def _image_of(action: Action) -> str | None:
    match action:
        case CreateContainer(container=container) | RecreateContainer(container=container):
            return container.image
        case CopyVolume(helper_image=image) | BackupVolume(helper_image=image):
            return image
        case _:
            return None


def execute(action: Action, engine: Engine) -> None:
    match action:
        case CreateVolume(volume=volume):
            engine.create_volume(volume_request(volume))
        case ReplaceVolume(volume=volume):
            engine.remove_volume(volume.name)
            engine.create_volume(volume_request(volume))
        case RemoveVolume(name=name):
            engine.remove_volume(name)
        case CopyVolume() | RemoveTemporaryVolume() | BackupVolume() | FinishRecreate():
            run_safety_step(action, engine)
        case CreateContainer(container=container, anonymous=anonymous):
            _create_and_start(engine, container, anonymous)
        case RecreateContainer():
            _recreate(engine, action)
        case RemoveContainer(name=name, old_id=old_id, was_running=was_running):
            if was_running:
                engine.stop_container(old_id, action.stop_timeout)
            engine.remove_container(old_id)
        case StartContainer(name=name, waits_for=dependencies):
            wait_for_dependencies(engine, name, dependencies)
            engine.start_container(name)
        case StopContainer(name=name, stop_timeout=timeout):
            engine.stop_container(name, timeout)
        case _:
            assert_never(action)


def volume_request(volume: DesiredVolume) -> VolumeCreate:
    return VolumeCreate(
        name=volume.name,
        driver=volume.driver,
        driver_opts=volume.driver_opts,
        labels=labels.volume_labels(volume),
    )


def container_request(
    container: DesiredContainer,
    anonymous: tuple[AnonymousVolume, ...],
    *,
    adopted_from: str | None = None,
) -> ContainerCreate:
    """``adopted_from``: the ID of the container this one adopts (labels.ADOPTED_FROM)."""
    names = {a.target: a.name for a in anonymous}
    mounts = tuple(
        replace(m, kind=MountKind.VOLUME, source=names[m.target])
        if m.kind is MountKind.ANONYMOUS
        else m
        for m in container.mounts
    )
    return ContainerCreate(
        name=container.name,
        image=container.image,
        command=container.command,
        labels=labels.container_labels(container)
        | ({labels.ADOPTED_FROM: adopted_from} if adopted_from else {}),
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
        options=container.options,
    )


def _create_and_start(
    engine: Engine,
    container: DesiredContainer,
    anonymous: tuple[AnonymousVolume, ...],
    *,
    adopted_from: str | None = None,
) -> str:
    for volume in anonymous:
        if not volume.exists:
            engine.create_volume(
                VolumeCreate(
                    name=volume.name,
                    driver="local",
                    driver_opts={},
                    labels=labels.anonymous_volume_labels(
                        container.project,
                        container.name,
                        volume.target,
                        from_image=volume.from_image,
                    ),
                )
            )
    request = container_request(container, anonymous, adopted_from=adopted_from)
    container_id = engine.create_container(request)
    if container.state is RunState.RUNNING:
        try:
            wait_for_dependencies(engine, container.name, container.options.depends_on)
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
    renamed = False
    try:
        engine.rename_container(action.old_id, container.name + RECREATE_SUFFIX)
        renamed = True
        adopted_from = action.old_id if action.adopt else None
        _create_and_start(engine, container, action.anonymous, adopted_from=adopted_from)
    except VolplanError as exc:
        _roll_back(engine, action, exc, renamed=renamed)
        raise
    engine.remove_container(action.old_id)


def _roll_back(
    engine: Engine, action: RecreateContainer, cause: VolplanError, *, renamed: bool
) -> None:
    """Give the old container its name back and restart it; if that fails too, the next
    plan finds the leftover and finishes the job."""
    try:
        if renamed:
            engine.rename_container(action.old_id, action.container.name)
        if action.was_running:
            engine.start_container(action.old_id)
    except VolplanError as exc:
        cause.add_note(f"rolling back also failed ({exc}); the next apply will finish it")
