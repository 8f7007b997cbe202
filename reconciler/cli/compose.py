"""``volplan import compose``: Compose files in, a volplan spec out.

The spec is written only when it is whole: when something in the Compose files has no
volplan equivalent, every such key is listed on stderr with its file:line:column and
nothing is written unless ``--allow-unsupported`` says to write the spec without them.
The spec is validated by the loader before it is written, so what is written loads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.options import err, out, write_stdout
from reconciler.errors import Position, Problem, RefusedError, SpecError
from reconciler.render.words import counted

if TYPE_CHECKING:
    from reconciler.compose.convert import Imported
    from reconciler.compose.project import Request

importer = typer.Typer(
    name="import",
    help="Turn other tools' files into volplan specs.",
    no_args_is_help=True,
)


@importer.command(
    epilog="Examples: volplan import compose docker-compose.yml -o specs/ ; "
    "volplan import compose compose.yaml -f compose.prod.yaml --project shop -o specs/ ; "
    "volplan import compose compose.yaml --profile debug > shop.yaml"
)
def compose(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="Compose files, merged in order as 'docker compose -f A -f B' merges them; "
            "the first one's folder is the project folder (its .env, its relative paths).",
        ),
    ],
    *,
    extra_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--file", "-f", metavar="FILE", help="One more Compose file, merged after FILE..."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Write DIR/PROJECT.yaml and the spec's JSON Schema beside it (the folder is "
            "made if missing); without it the spec goes to stdout, and relative host paths "
            "are relative to the current folder.",
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            "-p",
            metavar="NAME",
            help="The project name (default: COMPOSE_PROJECT_NAME, the file's name:, the "
            "project folder's name, as Compose chooses it).",
        ),
    ] = None,
    profiles: Annotated[
        list[str] | None,
        typer.Option(
            "--profile", metavar="PROFILE", help="Enable the services of this profile (repeatable)."
        ),
    ] = None,
    compatibility: Annotated[
        bool,
        typer.Option(
            "--compatibility",
            help="Name containers PROJECT_SERVICE_1, as docker-compose 1 and 'docker compose "
            "--compatibility' do (default PROJECT-SERVICE-1), to take over what they run.",
        ),
    ] = False,
    allow_unsupported: Annotated[
        bool,
        typer.Option(
            "--allow-unsupported",
            help="Write the spec even though some Compose keys have no volplan equivalent "
            "(they are listed on stderr either way).",
        ),
    ] = False,
) -> None:
    """Convert Compose files into a volplan spec: volumes, mounts, volumes_from, options."""
    from reconciler.compose.project import Request, import_compose

    request = Request(
        files=[*files, *(extra_files or [])],
        output_dir=output if output is not None else Path("."),
        project=project,
        profiles=frozenset(profiles or ()),
        compatibility=compatibility,
    )
    name, imported = import_compose(request, os.environ)
    for note in imported.notes:
        err.print(f"{note.position}: note: {note.path}: {note.reason}", markup=False)
    for item in imported.left_out:
        err.print(f"{item.position}: left out: {item.path}: {item.reason}", markup=False)
    if imported.left_out and not allow_unsupported:
        raise RefusedError(
            f"{counted(len(imported.left_out), 'Compose key')} cannot be expressed in a volplan "
            "spec (above); nothing was written. Give --allow-unsupported to write the spec "
            "without them."
        )
    text = _checked_text(request, name, imported)
    if output is None:
        write_stdout(text)
        return
    from reconciler.cli.output_file import write_output
    from reconciler.spec.json_schema import SCHEMA_FILE_NAME, spec_schema_text

    output.mkdir(parents=True, exist_ok=True)
    target = output / f"{name}.yaml"
    write_output(target, text)
    write_output(output / SCHEMA_FILE_NAME, spec_schema_text())  # where the modeline points
    document = imported.document
    out.print(
        f"Wrote {target}: {counted(len(document.get('volumes', {})), 'volume')}, "
        f"{counted(len(document.get('containers', {})), 'container')}.",
        markup=False,
    )


def _checked_text(request: Request, name: str, imported: Imported) -> str:
    """The spec's text, once the loader accepts it; its problems point at the Compose files."""
    from reconciler.fieldpath import format_path
    from reconciler.render.spec_file import render_spec_file
    from reconciler.spec.files import SpecSource
    from reconciler.spec.loader import build_desired_state

    sources = ", ".join(str(f) for f in request.files)
    text = render_spec_file(
        [imported.document],
        comments=[imported.comments],
        header=[f"Imported by 'volplan import compose' from {sources} (project {name})."],
    )
    folder = os.path.abspath(request.output_dir)
    try:
        build_desired_state([SpecSource(f"{name}.yaml", folder, text.encode())], {})
    except SpecError as exc:
        origins = {format_path(path): at for path, at in imported.origins.items()}
        raise SpecError([_at_origin(p, origins) for p in exc.problems]) from None
    return text


def _at_origin(problem: Problem, origins: dict[str, Position]) -> Problem:
    """The problem at the Compose item the spec's item came from (the nearest one known)."""
    path = problem.path
    while path and path not in origins:
        path = path[: max(path.rfind("."), path.rfind("["), 0)]
    position = origins.get(path, problem.position)
    return Problem(position, problem.path, problem.message, problem.rule)
