"""The command line: the only place that turns volplan's errors into exit codes.

Exit codes: 0 success (for ``plan --detailed-exitcode``: no changes), 1 any error,
including a mistyped command or option, 2 changes present. A usage error never exits 2,
so a typo in a pipeline is never read as "changes present".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.prompt import Confirm

from reconciler import __version__
from reconciler.actions import Plan, describe
from reconciler.applier import ApplyListener, apply_plan
from reconciler.engine.adapter import DockerEngine, resolve_host
from reconciler.errors import ApplyError, RefusedError, SpecError, VolplanError
from reconciler.pipeline import enforce_policy, plan_directory
from reconciler.policy_file import load_policy
from reconciler.render.text import render_plan, render_report, render_result
from reconciler.spec.loader import load_spec_dir

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

app = typer.Typer(
    name="volplan",
    help="Declarative reconciler for Docker volume topology: validate, plan and apply specs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SpecDir = Annotated[
    Path, typer.Argument(help="Folder of *.yaml/*.yml spec files, read recursively.")
]
HostOption = Annotated[
    str | None,
    typer.Option(
        "--host",
        "-H",
        help="Engine endpoint, e.g. unix:///var/run/docker.sock (default: $DOCKER_HOST).",
    ),
]

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Host-path policy file (default: ./volplan.policy.yaml if present, else the "
        "built-in policy).",
    ),
]


@app.command(epilog="Example: volplan validate specs/ --policy ops/volplan.policy.yaml")
def validate(directory: SpecDir, policy: PolicyOption = None) -> None:
    """Load and validate the specs, and check them against the policy; needs no engine."""
    desired = load_spec_dir(directory)
    enforce_policy(desired, load_policy(policy, spec_dir=directory), resolve_host(None))
    out.print(
        f"{directory}: valid ({len(desired.volumes)} volumes, {len(desired.containers)} "
        f"containers, projects: {', '.join(desired.projects)})"
    )


@app.command(
    epilog="Examples: volplan plan specs/ ; volplan plan specs/ --detailed-exitcode || echo changes"
)
def plan(
    directory: SpecDir,
    host: HostOption = None,
    policy: PolicyOption = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 for no changes, 2 for changes, 1 for errors."
        ),
    ] = False,
) -> None:
    """Show what apply would change (a dry run); changes nothing."""
    enforced = load_policy(policy, spec_dir=directory)
    planned = plan_directory(directory, DockerEngine.connect(host), enforced)
    out.print(render_plan(planned.plan, planned.live.engine))
    if detailed_exitcode and planned.plan.actions:
        raise typer.Exit(EXIT_CHANGES)


@app.command(
    epilog="Examples: volplan apply specs/ ; volplan apply specs/ --yes ; "
    "volplan apply specs/ --dry-run"
)
def apply(
    directory: SpecDir,
    host: HostOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show the plan (same as plan).")
    ] = False,
    allow_data_loss: Annotated[
        bool,
        typer.Option(
            "--allow-data-loss", help="Allow actions that destroy volume data (replacements)."
        ),
    ] = False,
    *,
    policy: PolicyOption = None,
) -> None:
    """Show the plan, ask for confirmation on a terminal, and apply it."""
    enforced = load_policy(policy, spec_dir=directory)
    engine = DockerEngine.connect(host)
    planned = plan_directory(directory, engine, enforced)
    out.print(render_plan(planned.plan, planned.live.engine))
    if dry_run or not planned.plan.actions:
        return
    _refuse_data_loss(planned.plan, allow_data_loss)
    _confirm(yes)
    listener = ApplyListener(
        on_pull=lambda image, status: err.print(f"pulling {image}: {status}"),
        on_result=lambda result: out.print(render_result(result)),
    )
    report = apply_plan(planned.plan, engine, listener)
    out.print(f"Apply complete: {len(report.done)} action(s) done.")


def _refuse_data_loss(plan: Plan, allowed: bool) -> None:
    if plan.destructive and not allowed:
        names = ", ".join(describe(a).address for a in plan.destructive)
        raise RefusedError(
            f"refusing to destroy data: {names} would be replaced, losing its content. "
            "Back it up, then re-run with --allow-data-loss."
        )


def _confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty() or os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise RefusedError("no terminal to confirm on: re-run with --yes to apply without asking")
    if not Confirm.ask("Apply these changes?", console=err, default=False):
        raise RefusedError("apply cancelled; nothing was changed")


@app.command()
def version() -> None:
    """Print volplan's version."""
    out.print(__version__)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command and map every outcome to an exit code."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="volplan", standalone_mode=False)
    except typer.Abort:
        err.print("aborted")
        code = EXIT_ERROR
    except typer.TyperException as exc:
        err.print(f"error: {exc.format_message()} (see volplan --help)", markup=False)
        code = EXIT_ERROR
    except VolplanError as exc:
        _report_error(exc)
        code = EXIT_ERROR
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _report_error(exc: VolplanError) -> None:
    if isinstance(exc, SpecError):
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        err.print(f"{len(exc.problems)} problem(s) found; nothing was changed.")
        return
    err.print(f"error: {exc}", markup=False, style="bold red")
    if isinstance(exc, ApplyError):
        err.print(render_report(exc.report))
