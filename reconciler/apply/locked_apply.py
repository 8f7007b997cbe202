"""One apply, start to end, for every caller: the CLI today, a ``watch`` or a fleet later.

Under the projects' lock: plan again (a saved plan is checked again), show the plan,
refuse data loss the options do not allow, ask for confirmation, apply. The caller
decides how to show and how to ask; the order, and the guard, are the same for all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.apply.applier import (
    ApplyListener,
    ApplyOptions,
    ApplyReport,
    apply_plan,
    refuse_data_loss,
)
from reconciler.apply.apply_target import ApplyTarget
from reconciler.apply.interrupt import Interruption
from reconciler.apply.lock import LockHolder, engine_lock
from reconciler.apply.scheduler import default_parallelism
from reconciler.engine.base import Engine
from reconciler.errors import RefusedError
from reconciler.live.pulls import pull_images
from reconciler.model import PullPolicy
from reconciler.pipeline import Planned


@dataclass(frozen=True)
class Prompts:
    """How the caller shows and asks. ``confirm`` None applies without asking (``--yes``,
    a saved plan); one that returns False cancels, changing nothing."""

    show_plan: Callable[[Planned], None]
    confirm: Callable[[Planned], bool] | None
    on_lock_wait: Callable[[LockHolder], None] = field(default=lambda holder: None)


@dataclass(frozen=True)
class Ready:
    """A plan made under the lock, checked against the options, not yet confirmed."""

    target: ApplyTarget
    planned: Planned
    options: ApplyOptions


def apply_locked(
    target: ApplyTarget,
    engine: Engine,
    prompts: Prompts,
    listener: ApplyListener,
    *,
    lock_timeout: float = 0,
    parallelism: int | None = None,
    pull: PullPolicy | None = None,
    interruption: Interruption | None = None,
) -> ApplyReport:
    """Plan, refuse, confirm and apply under the lock; an empty report when nothing is to do.

    The specs' images are pulled first, as their ``pull`` policies (or ``pull``) say, so
    the plan is made against the images the containers will be created from; a saved plan
    is applied against the images it was made on. ``interruption`` is a thread's own stop
    (see ``locked_plan``): a lock lost there stops that thread's apply, not the main one.
    """
    with locked_plan(
        target,
        engine,
        prompts,
        listener,
        lock_timeout=lock_timeout,
        parallelism=parallelism,
        pull=pull,
        interruption=interruption,
    ) as ready:
        return apply_ready(ready, engine, prompts, listener)


@contextmanager
def locked_plan(
    target: ApplyTarget,
    engine: Engine,
    prompts: Prompts,
    listener: ApplyListener,
    *,
    lock_timeout: float = 0,
    parallelism: int | None = None,
    pull: PullPolicy | None = None,
    interruption: Interruption | None = None,
) -> Iterator[Ready]:
    """``apply_locked``'s first half, for a caller that checks several engines before
    applying to any (a fleet's saved plan): the lock is held, the plan made, shown and
    checked for data loss the options do not allow, until the block ends.

    Projects whose ``targets:`` labels the engine does not carry are set aside first:
    neither locked, pulled for nor planned. A stop asked through ``interruption`` (a
    fleet's, interrupt.py) ends a wait for the lock and any apply of the plan yielded.
    """
    if target.desired.placement:  # else the engine's labels cannot matter: no extra call
        target = target.placed(engine.info().labels)
    with engine_lock(
        engine,
        target.desired.projects,
        image=target.helper_image,
        operation="apply",
        timeout=lock_timeout,
        on_wait=prompts.on_lock_wait,
        interruption=interruption,
    ):
        present: tuple[str, ...] = ()
        if target.saved is None:
            present = pull_images(engine, target.desired, pull, listener.on_pull)
        planned = target.plan(engine)
        prompts.show_plan(planned)
        options = ApplyOptions(
            allow_data_loss=target.options.allow_data_loss,
            parallelism=parallelism or default_parallelism(planned.observed.engine),
            saved_plan=target.saved is not None,
            present_images=present,
            interruption=interruption,
        )
        refuse_data_loss(planned.plan, options)
        yield Ready(target, planned, options)


def apply_ready(
    ready: Ready, engine: Engine, prompts: Prompts, listener: ApplyListener
) -> ApplyReport:
    """``apply_locked``'s second half, still under the lock: confirm, then apply."""
    if not ready.planned.plan.actions:
        return ApplyReport()
    if ready.options.interruption is not None:
        ready.options.interruption.check("the plan was made, and nothing of it applied")
    if prompts.confirm is not None and not prompts.confirm(ready.planned):
        raise RefusedError("apply cancelled; nothing was changed")
    if ready.target.options.backup_dir is not None:
        Path(ready.target.options.backup_dir).mkdir(parents=True, exist_ok=True)
    return apply_plan(ready.planned.plan, engine, listener, options=ready.options)
