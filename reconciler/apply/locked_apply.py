"""One apply, start to end, for every caller: the CLI today, a ``watch`` or a fleet later.

Under the projects' lock: plan again (a saved plan is checked again), show the plan,
refuse data loss the options do not allow, ask for confirmation, apply. The caller
decides how to show and how to ask; the order, and the guard, are the same for all.
"""

from __future__ import annotations

from collections.abc import Callable
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


def apply_locked(
    target: ApplyTarget,
    engine: Engine,
    prompts: Prompts,
    listener: ApplyListener,
    *,
    lock_timeout: float = 0,
    parallelism: int | None = None,
    pull: PullPolicy | None = None,
) -> ApplyReport:
    """Plan, refuse, confirm and apply under the lock; an empty report when nothing is to do.

    The specs' images are pulled first, as their ``pull`` policies (or ``pull``) say, so
    the plan is made against the images the containers will be created from; a saved plan
    is applied against the images it was made on. Projects whose ``targets:`` labels the
    engine does not carry are set aside first: neither locked, pulled for nor planned.
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
    ):
        present: tuple[str, ...] = ()
        if target.saved is None:
            present = pull_images(engine, target.desired, pull, listener.on_pull)
        planned = target.plan(engine)
        prompts.show_plan(planned)
        if not planned.plan.actions:
            return ApplyReport()
        options = ApplyOptions(
            allow_data_loss=target.options.allow_data_loss,
            parallelism=parallelism or default_parallelism(planned.observed.engine),
            saved_plan=target.saved is not None,
            present_images=present,
        )
        refuse_data_loss(planned.plan, options)
        if prompts.confirm is not None and not prompts.confirm(planned):
            raise RefusedError("apply cancelled; nothing was changed")
        if target.options.backup_dir is not None:
            Path(target.options.backup_dir).mkdir(parents=True, exist_ok=True)
        return apply_plan(planned.plan, engine, listener, options=options)
