"""The main job: ``validate``, ``plan`` and ``apply``.

What only ``apply`` runs (the applier, the lock, saved plans, the prompt) is imported in
its body, and the JSON renderer where it is asked for: on a small project start-up is most
of a plan's time.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.gitops import lock_waiting
from reconciler.cli.options import (
    AllowDataLossOption,
    BackupDirOption,
    HelperImageOption,
    HostOption,
    MigrateOption,
    PolicyOption,
    PruneOption,
    SpecDir,
    connect,
    err,
    out,
    plan_options,
    show,
    write_stdout,
)
from reconciler.engine.adapter import resolve_host
from reconciler.engine.base import MAX_CONCURRENT_CALLS
from reconciler.errors import RefusedError
from reconciler.model import PullPolicy
from reconciler.pipeline import enforce_policy, load_specs, plan_directory
from reconciler.plan.actions import Plan, describe
from reconciler.policy.selection import load_policy
from reconciler.render.text import render_plan

EXIT_CHANGES = 2

reconcile = typer.Typer()


class PlanFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@reconcile.command(epilog="Example: volplan validate specs/ --policy ops/volplan.policy.yaml")
def validate(directory: SpecDir, *, policy: PolicyOption = None) -> None:
    """Load and validate the specs, and check them against the policy; needs no engine."""
    desired = load_specs(directory)
    enforce_policy(desired, load_policy(policy, spec_dir=directory), resolve_host(None))
    out.print(
        f"{directory}: valid ({len(desired.volumes)} volumes, {len(desired.containers)} "
        f"containers, projects: {', '.join(desired.projects)})"
    )


@reconcile.command(
    epilog="Examples: volplan plan specs/ ; volplan plan specs/ --detailed-exitcode || echo "
    "changes ; volplan plan specs/ --format json > plan.json ; volplan plan specs/ --out plan.json"
)
def plan(
    directory: SpecDir,
    *,
    host: HostOption = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 for no changes, 2 for changes, 1 for errors."
        ),
    ] = False,
    output_format: Annotated[
        PlanFormat,
        typer.Option(
            "--format", help="text, or json (schema: reconciler/schemas/plan.schema.json)."
        ),
    ] = PlanFormat.TEXT,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Save the plan to this file, for `volplan apply FILE` to apply as is."
        ),
    ] = None,
    prune: PruneOption = False,
    allow_data_loss: AllowDataLossOption = False,
    migrate: MigrateOption = False,
    backup_dir: BackupDirOption = None,
    helper_image: HelperImageOption = None,
    policy: PolicyOption = None,
) -> None:
    """Show what apply would change (a dry run); changes nothing."""
    options = plan_options(prune, allow_data_loss, migrate, backup_dir, helper_image)
    enforced = load_policy(policy, spec_dir=directory)
    planned = plan_directory(directory, connect(host), options, policy=enforced)
    if output_format is PlanFormat.JSON:
        from reconciler.render.json import dumps, plan_document

        write_stdout(dumps(plan_document(planned)))
    else:
        show(out, render_plan(planned.plan, planned.live.engine))
    if out_file is not None:
        from reconciler.plan.saved_plan import write_saved_plan

        write_saved_plan(out_file, planned, directory)
        err.print(f"Saved the plan to {out_file}; apply it with: volplan apply {out_file}")
    if detailed_exitcode and planned.plan.actions:
        raise typer.Exit(EXIT_CHANGES)


@reconcile.command(
    epilog="Examples: volplan apply specs/ ; volplan apply specs/ --yes ; "
    "volplan apply specs/ --dry-run ; volplan apply specs/ --pull always ; "
    "volplan apply plan.json"
)
def apply(
    target: Annotated[
        Path,
        typer.Argument(
            metavar="DIRECTORY|PLAN_FILE",
            help="Folder of spec files, or a plan file saved by `volplan plan --out`.",
        ),
    ],
    *,
    host: HostOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show the plan (same as plan).")
    ] = False,
    allow_data_loss: AllowDataLossOption = False,
    prune: PruneOption = False,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0,
            help="Seconds to wait for another run's lock on the project before failing.",
        ),
    ] = 0,
    migrate: MigrateOption = False,
    backup_dir: BackupDirOption = None,
    helper_image: HelperImageOption = None,
    policy: PolicyOption = None,
    pull: Annotated[
        PullPolicy | None,
        typer.Option(
            "--pull",
            help="Pull images always, when missing, or never, for every container (default: "
            "each container's pull:, else missing). Images are pulled before the plan is made.",
        ),
    ] = None,
    parallelism: Annotated[
        int | None,
        typer.Option(
            "--parallelism",
            min=1,
            max=MAX_CONCURRENT_CALLS,
            help="Actions run at once (default: four per engine CPU, at least 2).",
        ),
    ] = None,
) -> None:
    """Show the plan, ask for confirmation on a terminal, and apply it.

    A saved plan file is applied as is, without asking, or refused if the specs or the
    engine changed since it was made.
    """
    from reconciler.apply.applier import ApplyListener, apply_plan
    from reconciler.apply.apply_target import ApplyTarget
    from reconciler.apply.lock import engine_lock
    from reconciler.apply.scheduler import default_parallelism
    from reconciler.live.pulls import pull_images
    from reconciler.render.text import render_result

    engine = connect(host)
    options = plan_options(prune, allow_data_loss, migrate, backup_dir, helper_image)
    chosen = ApplyTarget.open(target, options)
    spec_dir = Path(chosen.saved.spec_dir) if chosen.saved is not None else target
    enforce_policy(chosen.desired, load_policy(policy, spec_dir=spec_dir), resolve_host(host))
    if dry_run:
        planned = chosen.plan(engine)
        show(out, render_plan(planned.plan, planned.live.engine))
        return
    with engine_lock(
        engine,
        chosen.desired.projects,
        images=chosen.images,
        operation="apply",
        timeout=lock_timeout,
        on_wait=lock_waiting(err),
    ):
        pulled: tuple[str, ...] = ()
        if chosen.saved is None:  # a saved plan is applied against the images it was made on
            pulled = pull_images(engine, chosen.desired, pull, _show_pull)
        planned = chosen.plan(engine)
        show(out, render_plan(planned.plan, planned.live.engine))
        if not planned.plan.actions:
            return
        _refuse_data_loss(
            planned.plan, chosen.options.allow_data_loss, saved=chosen.saved is not None
        )
        if chosen.saved is None:
            _confirm(yes)
        if chosen.options.backup_dir is not None:
            Path(chosen.options.backup_dir).mkdir(parents=True, exist_ok=True)
        listener = ApplyListener(
            on_pull=_show_pull,
            on_result=lambda result: show(err, render_result(result)),
        )
        workers = parallelism or default_parallelism(planned.live.engine)
        report = apply_plan(planned.plan, engine, listener, parallelism=workers, present=pulled)
    out.print(f"Apply complete: {len(report.done)} action(s) done.")


def _show_pull(image: str, status: str) -> None:
    err.print(f"pulling {image}: {status}")


def _refuse_data_loss(plan: Plan, allowed: bool, *, saved: bool) -> None:
    if plan.destructive and not allowed:
        names = ", ".join(f"{describe(a).address} ({describe(a).verb})" for a in plan.destructive)
        again = "make the plan again with" if saved else "re-run with"
        raise RefusedError(
            f"refusing to destroy data: {names} would lose its content. "
            f"Back it up, then {again} --allow-data-loss (or, for a replaced volume, "
            "with --migrate, which keeps its content)."
        )


def _confirm(yes: bool) -> None:
    if yes:
        return
    from rich.prompt import Confirm

    if not sys.stdin.isatty() or os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise RefusedError("no terminal to confirm on: re-run with --yes to apply without asking")
    if not Confirm.ask("Apply these changes?", console=err, default=False):
        raise RefusedError("apply cancelled; nothing was changed")
