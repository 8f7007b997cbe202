"""``volplan export``: spec files from a live engine; ``volplan schema``: the spec format's
JSON Schema, for editors.

Export reads the engine through the adapter (live/host_snapshot.py), converts what it
found into spec documents (live/to_spec.py, pure) and writes them with the spec writer
(render/spec_file.py). Written into a folder, each project is a file beside
``spec.schema.json``, which every file's modeline names; a file already there is never
overwritten unless ``--force`` says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.options import ContextOption, HostOption, connect, err, write_stdout

if TYPE_CHECKING:
    from reconciler.live.to_spec import ExportedProject
    from reconciler.model import EngineInfo

exporting = typer.Typer()


@exporting.command(
    epilog="Examples: volplan export --all -o specs/ ; volplan export --project shop ; "
    "volplan export --all -o specs/ && volplan plan specs/"
)
def export(
    *,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            metavar="NAME",
            help="Export one project: what carries its volplan or Compose project label, "
            "with the volumes it mounts and the containers it takes volumes from.",
        ),
    ] = None,
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Export every project; what carries no project label goes to project 'host'.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="DIR",
            help="Write PROJECT.yaml per project and spec.schema.json into DIR (made if "
            "missing), instead of printing the specs.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files already in DIR.")] = False,
    host: HostOption = None,
    context: ContextOption = None,
) -> None:
    """Write spec files describing what the engine runs: volumes, containers, their mounts,
    volumes_from and options, leaving out what their images already say. Applying them
    back plans nothing, except adopting what volplan did not create."""
    from reconciler.errors import SpecPathError
    from reconciler.live.host_snapshot import read_host_snapshot
    from reconciler.live.to_spec import export_projects
    from reconciler.render.words import counted

    if everything == (project is not None):
        raise SpecPathError("give --project NAME or --all (one of them)")
    snapshot = read_host_snapshot(connect(host, context))
    exported = export_projects(snapshot, project)
    header = _header(snapshot.live.engine)
    if output is None:
        write_stdout(_render(exported, header))
    else:
        _write_folder(output, exported, header, force=force)
    volumes = sum(len(p.document.get("volumes", {})) for p in exported)
    containers = sum(len(p.document.get("containers", {})) for p in exported)
    err.print(
        f"Exported {counted(len(exported), 'project')} ({counted(volumes, 'volume')}, "
        f"{counted(containers, 'container')})"
        + (f" to {output}" if output is not None else "")
        + "; `volplan plan` on them adopts what volplan did not create and plans nothing else.",
        markup=False,
    )


def _header(engine: EngineInfo) -> list[str]:
    return [
        f"Exported by volplan export from {engine.endpoint} (Docker {engine.server_version}).",
        "What the images already say (CMD, ENTRYPOINT, ENV, USER, VOLUME...) is left out.",
    ]


def _render(exported: list[ExportedProject], header: list[str]) -> str:
    from reconciler.render.spec_file import render_spec_file

    return render_spec_file(
        [p.document for p in exported], comments=[p.comments for p in exported], header=header
    )


def _write_folder(
    folder: Path, exported: list[ExportedProject], header: list[str], *, force: bool
) -> None:
    from reconciler.cli.output_file import write_output
    from reconciler.errors import OutputError
    from reconciler.spec.json_schema import SCHEMA_FILE_NAME, spec_schema_text

    files = {f"{p.name}.yaml": _render([p], header) for p in exported}
    taken = sorted(name for name in files if (folder / name).exists())
    if taken and not force:
        raise OutputError(
            f"{folder} already holds {', '.join(taken)}; nothing was written "
            "(--force overwrites them)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make {folder}: {exc.strerror or exc}") from None
    for name, text in files.items():
        write_output(folder / name, text)
    write_output(folder / SCHEMA_FILE_NAME, spec_schema_text())


@exporting.command(
    epilog="Examples: volplan schema > spec.schema.json ; volplan schema -o specs/spec.schema.json"
)
def schema(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", metavar="FILE", help="Write it to FILE, not stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of the spec format (generated from volplan's models), for
    editors: point a spec's '# yaml-language-server: $schema=...' modeline at it."""
    from reconciler.cli.output_file import write_output
    from reconciler.spec.json_schema import spec_schema_text

    if output is None:
        write_stdout(spec_schema_text())
    else:
        write_output(output, spec_schema_text())
