"""The commands for pipelines and operators: ``drift``, ``status`` and ``unlock``.

Registered on the main app by cli.py, whose ``main`` maps errors to exit codes. ``drift``
exits 0 in sync, 2 on drift, 1 on error (Terraform's ``-detailed-exitcode`` family, not
``kubectl diff``'s, where 1 means a difference).

Each command imports the stages it runs in its body: a drift check's start-up is most of
its time, so it loads no lock, status or report format it does not use.
"""

from __future__ import annotations

from collections.abc import Callable
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
)
from reconciler.cli.options import (
    AllowEmptyOption,
    ContextOption,
    HostOption,
    PolicyOption,
    SpecDir,
    connect,
    note_elsewhere,
    out,
    require_projects,
    show,
    write_stdout,
)

if TYPE_CHECKING:
    from rich.console import Console

    from reconciler.apply.lock import LockHolder
    from reconciler.diff.drift import DriftReport

EXIT_DRIFT = 2

gitops = typer.Typer()


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    JUNIT = "junit"


class StatusFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def lock_waiting(console: Console) -> Callable[[LockHolder], None]:
    def announce(holder: LockHolder) -> None:
        console.print(
            f"waiting for the lock on project {holder.project}, held by {holder}", markup=False
        )

    return announce


@gitops.command(
    epilog="Examples: volplan drift specs/ ; volplan drift specs/ --format markdown "
    "--output drift.md ; volplan drift specs/ --format junit --output drift.xml ; "
    "volplan drift specs/ --targets targets.yaml --format markdown"
)
def drift(
    directory: SpecDir,
    *,
    host: HostOption = None,
    context: ContextOption = None,
    output_format: Annotated[
        ReportFormat,
        typer.Option("--format", help="text, json, markdown (a PR comment) or junit."),
    ] = ReportFormat.TEXT,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "--out",
            "-o",
            metavar="FILE",
            help="Write the report to this file; the summary still prints.",
        ),
    ] = None,
    include_unclaimed: Annotated[
        bool,
        typer.Option(
            "--include-unclaimed",
            help="Count dangling volumes no volplan project claims as drift (by default "
            "they are listed as information: on a shared host they are someone else's).",
        ),
    ] = False,
    allow_empty: AllowEmptyOption = False,
    policy: PolicyOption = None,
    targets: TargetsOption = None,
    target_names: TargetOption = None,
    parallel_targets: ParallelTargetsOption = DEFAULT_PARALLEL_TARGETS,
) -> None:
    """Compare the specs with the engine, changing nothing. Exit 0 in sync, 2 drift, 1 error.

    The specs pass the policy first: a report posted on a merge request must not carry
    what a spec under review should not read (a refused variable, a host file). With
    --targets, on every engine of the targets file at once, with one report (exit 1 if any
    target failed, else 2 if any drifted).
    """
    fleet = fleet_of(targets, target_names, parallel_targets, host, context)
    if fleet is not None:
        from reconciler.cli.fleet import fleet_drift

        fleet_drift(
            fleet,
            directory,
            policy,
            output_format=output_format.value,
            output=output,
            include_unclaimed=include_unclaimed,
            allow_empty=allow_empty,
        )
    from reconciler.cli.output_file import write_output
    from reconciler.diff.differ import diff_states
    from reconciler.diff.drift import build_drift_report
    from reconciler.pipeline import load_and_read
    from reconciler.policy.selection import load_policy
    from reconciler.render.drift_text import render_drift, render_drift_summary

    specs, live = load_and_read(
        directory, lambda: connect(host, context), policy=load_policy(policy, spec_dir=directory)
    )
    desired = specs.desired
    require_projects(desired, directory, allow_empty=allow_empty)
    note_elsewhere(desired, live.engine)
    diff = diff_states(desired, live)
    report = build_drift_report(desired, live, diff, include_unclaimed=include_unclaimed)
    if output is not None:
        write_output(output, _render_report(report, output_format, directory))
        show(out, render_drift_summary(report), end="")
        out.print(f"Report ({output_format.value}) written to {output}")
    elif output_format is ReportFormat.TEXT:
        show(out, render_drift(report), end="")
    else:
        write_stdout(_render_report(report, output_format, directory))
    if not report.in_sync:
        raise typer.Exit(EXIT_DRIFT)


def _render_report(report: DriftReport, output_format: ReportFormat, directory: Path) -> str:
    match output_format:
        case ReportFormat.TEXT:
            from reconciler.render.drift_text import render_drift

            return render_drift(report).plain
        case ReportFormat.JSON:
            from reconciler.plan.document import dumps
            from reconciler.render.json import drift_document

            return dumps(drift_document(report))
        case ReportFormat.MARKDOWN:
            from reconciler.render.markdown import render_drift_markdown

            return render_drift_markdown(
                report, json_hint=f"volplan drift {directory} --format json"
            )
        case ReportFormat.JUNIT:
            from reconciler.render.junit import render_drift_junit

            return render_drift_junit(report)


@gitops.command(
    epilog="Examples: volplan status ; volplan status specs/ ; volplan status --format json"
)
def status(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="[SPECS]",
            help="A spec file or folder: show its projects only (default: the whole engine).",
        ),
    ] = None,
    host: HostOption = None,
    context: ContextOption = None,
    output_format: Annotated[
        StatusFormat, typer.Option("--format", help="text or json.")
    ] = StatusFormat.TEXT,
) -> None:
    """Show the live volume topology: volumes, who mounts them, volumes_from, binds, dangling."""
    from reconciler.live.status import read_topology
    from reconciler.pipeline import load
    from reconciler.plan.document import dumps
    from reconciler.render.json import status_document
    from reconciler.render.status_text import render_status

    desired = load(directory).desired if directory is not None else None
    topology = read_topology(connect(host, context), desired)
    if output_format is StatusFormat.JSON:
        write_stdout(dumps(status_document(topology)))
    else:
        show(out, render_status(topology), end="")


@gitops.command(epilog="Examples: volplan unlock shop ; volplan unlock shop --force")
def unlock(
    projects: Annotated[
        list[str], typer.Argument(metavar="PROJECT...", help="The projects whose lock to release.")
    ],
    host: HostOption = None,
    context: ContextOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Release the lock even if its run may still be alive."),
    ] = False,
) -> None:
    """Release a lock left by a killed apply (stale), or any lock with --force."""
    from reconciler.apply.lock import unlock as release_lock

    engine = connect(host, context)
    for project in projects:
        holder = release_lock(engine, project, force=force)
        if holder is None:
            out.print(f"project {project}: not locked")
        else:
            out.print(f"project {project}: released the lock of {holder}", markup=False)
