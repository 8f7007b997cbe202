"""Compose files on disk -> the project Compose would run: its name, variables and profiles.

Compose's rules: the project folder is the first file's; variables come from the
environment, then from the ``.env`` in that folder; the project's name is ``--project``,
else ``COMPOSE_PROJECT_NAME``, else the top-level ``name:``, else the folder's name, and a
name found rather than given is normalised as Compose normalises it (lowercase, only
letters, digits, ``_`` and ``-``, no leading ``_`` or ``-``). Profiles are off unless
given or in ``COMPOSE_PROFILES``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.compose.convert import Imported, Options, convert_project
from reconciler.compose.merge import merge_files
from reconciler.compose.source import Tree, read_compose_file
from reconciler.errors import Position, Problem, SpecError
from reconciler.spec.files import read_source
from reconciler.spec.mount_syntax import NAME_RE
from reconciler.spec.variables import DOTENV_NAME, DotenvError, Variables, read_env_file, shown_path

_NOT_IN_NAME = re.compile(r"[^a-z0-9_-]")
_VALID_GIVEN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Request:
    """What ``volplan import compose`` was asked."""

    files: Sequence[Path]
    output_dir: Path
    project: str | None = None
    profiles: frozenset[str] = frozenset()
    compatibility: bool = False


def normalise_project_name(name: str) -> str:
    """Compose's normalisation of a project name it found (compose-go's
    ``NormalizeProjectName``; docker-compose 1 keeps a leading ``_`` or ``-``)."""
    return _NOT_IN_NAME.sub("", name.lower()).lstrip("_-")


def import_compose(request: Request, environment: Mapping[str, str]) -> tuple[str, Imported]:
    """The project's name and its spec; ``SpecError`` for a file Compose would refuse."""
    project_dir = os.path.dirname(os.path.abspath(request.files[0]))
    variables = Variables(environment, _dotenv(project_dir))
    trees = []
    for path in request.files:
        source = read_source(path)
        trees.append(read_compose_file(source.display_name, source.raw, variables))
    merged = merge_files(trees)
    project = _project_name(request.project, variables, merged, project_dir)
    profiles = request.profiles | _listed(variables.lookup("COMPOSE_PROFILES", merged.position))
    options = Options(
        project=project,
        project_dir=project_dir,
        output_dir=os.path.abspath(request.output_dir),
        profiles=frozenset(profiles),
        compatibility=request.compatibility,
    )
    return project, convert_project(merged, options)


def _dotenv(folder: str) -> dict[str, str]:
    path = os.path.join(folder, DOTENV_NAME)
    try:
        return read_env_file(path) or {}
    except DotenvError as exc:
        where = Position(shown_path(path), exc.line, 1)
        raise SpecError([Problem(where, "", str(exc).partition(": ")[2], "env-file")]) from None
    except OSError as exc:
        where = Position(shown_path(path), 1, 1)
        raise SpecError(
            [Problem(where, "", f"cannot read it: {exc.strerror}", "env-file")]
        ) from None


def _project_name(given: str | None, variables: Variables, compose: Tree, folder: str) -> str:
    if given is not None:
        if not _VALID_GIVEN_NAME.match(given):
            raise SpecError(
                [
                    Problem(
                        Position("--project", 1, 1),
                        "",
                        f"{given!r} is not a valid project name: lowercase letters, digits, "
                        "'_' and '-', starting with a letter or digit",
                        "project-name",
                    )
                ]
            )
        return _spec_name(given, compose)
    from_environment = variables.lookup("COMPOSE_PROJECT_NAME", compose.position)
    named = compose.get("name")
    found = from_environment or (named if isinstance(named, str) else None)
    return _spec_name(normalise_project_name(found or os.path.basename(folder)), compose)


def _spec_name(name: str, compose: Tree) -> str:
    if not NAME_RE.match(name):
        raise SpecError(
            [
                Problem(
                    compose.position,
                    "",
                    f"the project name {name!r} is not one volplan can use (2 or more letters, "
                    "digits, '_' or '-'); give one with --project",
                    "project-name",
                )
            ]
        )
    return name


def _listed(value: str | None) -> set[str]:
    return {item.strip() for item in (value or "").split(",") if item.strip()}
