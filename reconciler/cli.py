"""The command line: the only place that turns volplan's errors into exit codes.

Exit codes: 0 success (for ``plan --detailed-exitcode``: no changes), 1 any error,
including a mistyped command or option, 2 changes present. A usage error never exits 2,
so a typo in a pipeline is never read as "changes present". Reports and JSON go to
stdout, progress and logs to stderr, so ``volplan plan --format json > plan.json`` is clean.
"""

from __future__ import annotations

import gc
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.prompt import Confirm

from reconciler import __version__
from reconciler.actions import Plan, describe
from reconciler.applier import ApplyListener, apply_plan
from reconciler.apply_target import ApplyTarget
from reconciler.backup import backup as backup_target
from reconciler.backup import resolve_target
from reconciler.backup import restore as restore_target
from reconciler.cli_gitops import gitops, lock_waiting, write_stdout
from reconciler.engine.adapter import DockerEngine, resolve_host
from reconciler.engine.base import MAX_CONCURRENT_CALLS, Engine
from reconciler.engine.crash_hook import with_crash_hook
from reconciler.engine.retry import RetryingEngine
from reconciler.errors import ApplyError, RefusedError, SpecError, VolplanError
from reconciler.lock import engine_lock
from reconciler.pipeline import enforce_policy, plan_directory
from reconciler.planner import PlanOptions
from reconciler.policy_file import load_policy
from reconciler.render.json import dumps, plan_document
from reconciler.render.progress import byte_progress
from reconciler.render.text import render_plan, render_report, render_result
from reconciler.saved_plan import write_saved_plan
from reconciler.scheduler import default_parallelism
from reconciler.spec.loader import load_spec_dir
from reconciler.volume_io import DEFAULT_HELPER_IMAGE

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
app.add_typer(gitops)

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
PruneOption = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Also remove resources labelled as the project's that the specs no longer "
        "declare (volumes only with --allow-data-loss; protected ones never).",
    ),
]
AllowDataLossOption = Annotated[
    bool,
    typer.Option(
        "--allow-data-loss",
        help="Allow actions that destroy volume data (replacements, pruned volumes).",
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


class PlanFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


HelperImageOption = Annotated[
    str | None,
    typer.Option(
        "--helper-image",
        help="Image of the short-lived, never started containers that move volume content "
        f"(default: the spec's helper_image, else {DEFAULT_HELPER_IMAGE}).",
    ),
]

MigrateOption = Annotated[
    bool,
    typer.Option(
        "--migrate",
        help="Replace a volume whose driver, options or labels changed without losing its "
        "content: copy it out, replace, copy it back, verify.",
    ),
]
BackupDirOption = Annotated[
    Path | None,
    typer.Option(
        "--backup-dir",
        help="Back up every volume to DIR/NAME-TIME.tar.gz before replacing it.",
    ),
]


def _options(
    prune: bool,
    allow_data_loss: bool,
    migrate: bool,
    backup_dir: Path | None,
    helper_image: str | None,
) -> PlanOptions:
    """``PlanOptions`` from the flags plan and apply share."""
    return PlanOptions(
        prune=prune,
        allow_data_loss=allow_data_loss,
        migrate=migrate,
        backup_dir=str(backup_dir) if backup_dir is not None else None,
        helper_image=helper_image,
    )


def connect(host: str | None) -> Engine:
    """The engine, with idempotent calls retried (and the fault-injection hook, in tests)."""
    return with_crash_hook(RetryingEngine(DockerEngine.connect(host)))


@app.command(epilog="Example: volplan validate specs/ --policy ops/volplan.policy.yaml")
def validate(directory: SpecDir, *, policy: PolicyOption = None) -> None:
    """Load and validate the specs, and check them against the policy; needs no engine."""
    desired = load_spec_dir(directory)
    enforce_policy(desired, load_policy(policy, spec_dir=directory), resolve_host(None))
    out.print(
        f"{directory}: valid ({len(desired.volumes)} volumes, {len(desired.containers)} "
        f"containers, projects: {', '.join(desired.projects)})"
    )


@app.command(
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
    options = _options(prune, allow_data_loss, migrate, backup_dir, helper_image)
    enforced = load_policy(policy, spec_dir=directory)
    planned = plan_directory(directory, connect(host), options, policy=enforced)
    if output_format is PlanFormat.JSON:
        write_stdout(dumps(plan_document(planned)))
    else:
        out.print(render_plan(planned.plan, planned.live.engine))
    if out_file is not None:
        write_saved_plan(out_file, planned, directory)
        err.print(f"Saved the plan to {out_file}; apply it with: volplan apply {out_file}")
    if detailed_exitcode and planned.plan.actions:
        raise typer.Exit(EXIT_CHANGES)


@app.command(
    epilog="Examples: volplan apply specs/ ; volplan apply specs/ --yes ; "
    "volplan apply specs/ --dry-run ; volplan apply plan.json"
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
    engine = connect(host)
    options = _options(prune, allow_data_loss, migrate, backup_dir, helper_image)
    chosen = ApplyTarget.open(target, options)
    spec_dir = Path(chosen.saved.spec_dir) if chosen.saved is not None else target
    enforce_policy(chosen.desired, load_policy(policy, spec_dir=spec_dir), resolve_host(host))
    if dry_run:
        planned = chosen.plan(engine)
        out.print(render_plan(planned.plan, planned.live.engine))
        return
    with engine_lock(
        engine,
        chosen.desired.projects,
        images=chosen.images,
        operation="apply",
        timeout=lock_timeout,
        on_wait=lock_waiting(err),
    ):
        planned = chosen.plan(engine)
        out.print(render_plan(planned.plan, planned.live.engine))
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
            on_pull=lambda image, status: err.print(f"pulling {image}: {status}"),
            on_result=lambda result: err.print(render_result(result)),
        )
        workers = parallelism or default_parallelism(planned.live.engine)
        report = apply_plan(planned.plan, engine, listener, parallelism=workers)
    out.print(f"Apply complete: {len(report.done)} action(s) done.")


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
    if not sys.stdin.isatty() or os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise RefusedError("no terminal to confirm on: re-run with --yes to apply without asking")
    if not Confirm.ask("Apply these changes?", console=err, default=False):
        raise RefusedError("apply cancelled; nothing was changed")


@app.command(
    epilog="Examples: volplan backup dbdata -o dbdata.tar.gz ; "
    "volplan backup container:dbstore -o dbstore.tar"
)
def backup(
    target: Annotated[
        str,
        typer.Argument(
            help="A volume, or a container (all its volumes): NAME, volume:NAME or container:NAME."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The tar file to write (.tar.gz: gzip).")
    ],
    host: HostOption = None,
    helper_image: HelperImageOption = None,
) -> None:
    """Write a volume's content, or every volume of a container, to a tar file."""
    engine = connect(host)
    resolved = resolve_target(engine, target)
    image = _helper_image_ready(engine, helper_image)
    with byte_progress(err, f"backing up {resolved.kind} {resolved.name}") as progress:
        summary = backup_target(engine, image, resolved, output, progress)
    out.print(
        f"Backed up {resolved.kind} {resolved.name} to {output}: {summary.entries} entries, "
        f"{summary.content_bytes} bytes of file content."
    )


@app.command(
    epilog="Examples: volplan restore dbdata dbdata.tar.gz ; "
    "volplan restore container:dbstore dbstore.tar --force"
)
def restore(
    target: Annotated[
        str, typer.Argument(help="The volume (created if missing) or container to restore into.")
    ],
    archive: Annotated[Path, typer.Argument(help="A file written by volplan backup.")],
    force: Annotated[
        bool, typer.Option("--force", help="Restore into volumes that already hold data.")
    ] = False,
    host: HostOption = None,
    helper_image: HelperImageOption = None,
) -> None:
    """Restore a backup into a volume, or into the volumes of a container."""
    engine = connect(host)
    if not archive.is_file():
        raise RefusedError(f"{archive}: no such file")
    image = _helper_image_ready(engine, helper_image)
    resolved = resolve_target(engine, target, create_missing=True)
    with byte_progress(err, f"restoring {resolved.kind} {resolved.name}") as progress:
        summary = restore_target(engine, image, resolved, archive, force=force, progress=progress)
    out.print(
        f"Restored {archive} into {resolved.kind} {resolved.name}: {summary.entries} entries, "
        f"{summary.content_bytes} bytes of file content."
    )


def _helper_image_ready(engine: Engine, image: str | None) -> str:
    """The helper image, pulled if missing, before anything is touched."""
    chosen = image or DEFAULT_HELPER_IMAGE
    if not engine.image_present(chosen):
        engine.pull_image(chosen, lambda status: err.print(f"pulling {chosen}: {status}"))
    return chosen


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
    # The heap is thrown away next: freezing it spares the interpreter's final garbage
    # collection a walk over every object of a large plan (0.1-0.2 s at 3,000 volumes).
    gc.freeze()
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
