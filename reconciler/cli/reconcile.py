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
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.fleet import (
    DEFAULT_PARALLEL_TARGETS,
    ParallelTargetsOption,
    TargetOption,
    TargetsOption,
    fleet_of,
    is_fleet_plan_file,
)
from reconciler.cli.gitops import lock_waiting
from reconciler.cli.options import (
    AllowDataLossOption,
    AllowEmptyOption,
    BackupDirOption,
    ContextOption,
    HelperImageOption,
    HostOption,
    MigrateOption,
    PolicyOption,
    PruneOption,
    SpecDir,
    connect,
    engine_endpoint,
    err,
    note_elsewhere,
    out,
    plan_options,
    require_projects,
    show,
    write_stdout,
)
from reconciler.engine.base import MAX_CONCURRENT_CALLS
from reconciler.errors import RefusedError
from reconciler.model import PullPolicy
from reconciler.render.words import counted

if TYPE_CHECKING:
    from reconciler.pipeline import Planned

EXIT_CHANGES = 2

reconcile = typer.Typer()


class PlanFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@reconcile.command(
    epilog="Examples: volplan validate specs/ --policy ops/volplan.policy.yaml ; "
    "TAG=1.2 volplan validate specs/ --show-interpolated"
)
def validate(
    directory: SpecDir,
    *,
    policy: PolicyOption = None,
    allow_empty: AllowEmptyOption = False,
    show_interpolated: Annotated[
        bool,
        typer.Option(
            "--show-interpolated",
            help="Print the specs as YAML with their ${VARIABLES} replaced (once they pass "
            "the policy); the summary then goes to stderr.",
        ),
    ] = False,
) -> None:
    """Load and validate the specs, and check them against the policy; needs no engine."""
    from reconciler.pipeline import load
    from reconciler.policy.selection import load_policy

    enforced = load_policy(policy, spec_dir=directory)
    specs = load(directory, policy=enforced, endpoint=engine_endpoint(None, None).host)
    desired = specs.desired
    require_projects(desired, directory, allow_empty=allow_empty)
    if show_interpolated:
        from reconciler.render.interpolated import render_interpolated
        from reconciler.spec.loader import interpolated_documents

        write_stdout(render_interpolated(interpolated_documents(list(specs.sources))))
    projects = counted(len(desired.projects), "project")
    if desired.projects:
        projects += f": {', '.join(desired.projects)}"
    (err if show_interpolated else out).print(
        f"{directory}: valid ({counted(len(desired.volumes), 'volume')}, "
        f"{counted(len(desired.containers), 'container')}, {projects})",
        markup=False,
    )


@reconcile.command(
    epilog="Examples: volplan plan specs/ ; volplan plan specs/ --detailed-exitcode || echo "
    "changes ; volplan plan specs/ --format json > plan.json ; volplan plan specs/ --out plan.json"
    " ; volplan plan specs/ --targets targets.yaml --target edge-1"
)
def plan(
    directory: SpecDir,
    *,
    host: HostOption = None,
    context: ContextOption = None,
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
            "--out",
            "--output",
            "-o",
            metavar="FILE",
            help="Save the plan to this file, for `volplan apply FILE` to apply as is.",
        ),
    ] = None,
    prune: PruneOption = False,
    allow_data_loss: AllowDataLossOption = False,
    migrate: MigrateOption = False,
    backup_dir: BackupDirOption = None,
    helper_image: HelperImageOption = None,
    policy: PolicyOption = None,
    allow_empty: AllowEmptyOption = False,
    targets: TargetsOption = None,
    target_names: TargetOption = None,
    parallel_targets: ParallelTargetsOption = DEFAULT_PARALLEL_TARGETS,
) -> None:
    """Show what apply would change (a dry run); changes nothing.

    With --targets, on every engine of the targets file at once, with one report; it then
    exits 1 if any target failed, else 2 if any has changes, else 0.
    """
    options = plan_options(prune, allow_data_loss, migrate, backup_dir, helper_image)
    fleet = fleet_of(targets, target_names, parallel_targets, host, context)
    if fleet is not None:
        from reconciler.cli.fleet import fleet_plan

        json_output = output_format is PlanFormat.JSON
        fleet_plan(
            fleet,
            directory,
            options,
            policy,
            json_output=json_output,
            out_file=out_file,
            allow_empty=allow_empty,
        )
    from reconciler.pipeline import load_and_read
    from reconciler.pipeline import plan as make_plan
    from reconciler.policy.selection import load_policy

    enforced = load_policy(policy, spec_dir=directory)
    engine = connect(host, context)
    planned = make_plan(*load_and_read(directory, lambda: engine, policy=enforced), options)
    require_projects(planned.desired, directory, allow_empty=allow_empty)
    if output_format is PlanFormat.JSON:
        from reconciler.plan.document import dumps, plan_document

        write_stdout(dumps(plan_document(planned)))
    else:
        _show_plan(planned)
    if out_file is not None:
        from reconciler.cli.output_file import write_output
        from reconciler.plan.saved_plan import saved_plan_text

        write_output(out_file, saved_plan_text(planned, planned.sources, directory), private=True)
        err.print(f"Saved the plan to {out_file}; apply it with: volplan apply {out_file}")
    if detailed_exitcode and planned.plan.actions:
        raise typer.Exit(EXIT_CHANGES)


@reconcile.command(
    epilog="Examples: volplan apply specs/ ; volplan apply specs/ --yes ; "
    "volplan apply specs/ --dry-run ; volplan apply specs/ --pull always ; "
    "volplan apply plan.json ; volplan apply specs/ --targets targets.yaml --yes"
)
def apply(
    target: Annotated[
        Path,
        typer.Argument(
            metavar="SPECS|PLAN_FILE",
            help="A spec file or folder (as for plan), or a plan file saved by "
            "`volplan plan --out`.",
        ),
    ],
    *,
    host: HostOption = None,
    context: ContextOption = None,
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
            metavar="SECONDS",
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
            metavar="N",
            max=MAX_CONCURRENT_CALLS,
            help="Actions run at once (default: four per engine CPU, at least 2).",
        ),
    ] = None,
    allow_empty: AllowEmptyOption = False,
    targets: TargetsOption = None,
    target_names: TargetOption = None,
    parallel_targets: ParallelTargetsOption = DEFAULT_PARALLEL_TARGETS,
) -> None:
    """Show the plan, ask for confirmation on a terminal, and apply it.

    A saved plan file is applied as is, without asking, or refused if the specs or the
    engine changed since it was made. With --targets (and --yes), on every engine of the
    targets file at once; a fleet's saved plan is applied to all its targets or, if any
    of them is stale or unreachable, to none.
    """
    from reconciler.apply.applier import ApplyListener
    from reconciler.apply.apply_target import ApplyTarget
    from reconciler.apply.locked_apply import Prompts, apply_locked
    from reconciler.pipeline import enforce_policy
    from reconciler.policy.selection import load_policy
    from reconciler.render.text import render_result

    options = plan_options(prune, allow_data_loss, migrate, backup_dir, helper_image)
    fleet = fleet_of(targets, target_names, parallel_targets, host, context)
    if fleet is not None or is_fleet_plan_file(target):
        from reconciler.cli.fleet import apply_fleet

        apply_fleet(
            fleet,
            target,
            options,
            policy,
            yes=yes,
            dry_run=dry_run,
            lock_timeout=lock_timeout,
            parallelism=parallelism,
            allow_empty=allow_empty,
        )
    engine = connect(host, context)
    chosen = ApplyTarget.open(target, options)
    require_projects(chosen.desired, target, allow_empty=allow_empty)
    spec_dir = Path(chosen.saved.spec_dir) if chosen.saved is not None else target
    enforce_policy(
        chosen.desired, load_policy(policy, spec_dir=spec_dir), engine_endpoint(host, context).host
    )
    if dry_run:
        _show_plan(chosen.plan(engine))
        return
    prompts = Prompts(
        show_plan=_show_plan,
        confirm=None if chosen.saved is not None or yes else _confirm,
        on_lock_wait=lock_waiting(err),
    )
    listener = ApplyListener(
        on_pull=lambda image, status: err.print(f"pulling {image}: {status}"),
        on_result=lambda result: show(err, render_result(result)),
    )
    report = apply_locked(
        chosen,
        engine,
        prompts,
        listener,
        lock_timeout=lock_timeout,
        parallelism=parallelism,
        pull=pull,
    )
    if report.done:
        out.print(f"Apply complete: {counted(len(report.done), 'action')} done.")


def _show_plan(planned: Planned) -> None:
    from reconciler.render.text import render_plan

    note_elsewhere(planned.desired, planned.observed.engine)
    allowed = planned.options.allow_data_loss
    show(out, render_plan(planned.plan, planned.observed.engine, allow_data_loss=allowed))


def _confirm(planned: Planned) -> bool:
    from reconciler.cli.prompt import confirm_apply

    if not sys.stdin.isatty() or os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise RefusedError("no terminal to confirm on: re-run with --yes to apply without asking")
    return confirm_apply(err)
