"""What the commands share: the two consoles, the common options, and the engine.

Results go to ``out`` (stdout), logs and progress to ``err`` (stderr); rich styles become
colours only on a terminal and never with ``NO_COLOR``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.control import strip_control_codes
from rich.text import Text

from reconciler.engine.adapter import DockerEngine
from reconciler.engine.base import DEFAULT_HELPER_IMAGE, Engine
from reconciler.engine.contexts import Endpoint, resolve_endpoint
from reconciler.engine.crash_hook import with_crash_hook
from reconciler.engine.retry import RetryingEngine
from reconciler.errors import AddressError, SpecPathError
from reconciler.model import DesiredState, EngineInfo
from reconciler.plan.options import PlanOptions
from reconciler.spec.placement import shown_labels

NO_COLOR = bool(os.environ.get("NO_COLOR"))
"""https://no-color.org: set and not empty. Rich alone drops only the colours and still
writes bold and dim; a console with no colour system writes no escape code at all."""
_COLOR_SYSTEM: Literal["auto"] | None = None if NO_COLOR else "auto"

out = Console(highlight=False, soft_wrap=True, color_system=_COLOR_SYSTEM)
err = Console(stderr=True, highlight=False, soft_wrap=True, color_system=_COLOR_SYSTEM)


def show(console: Console, text: Text, *, end: str = "\n") -> None:
    """Print a report. Where the console has no colour system (a pipe, a file, CI), rich
    would print the bare text after laying out every line; writing it directly gives the
    same bytes for a fraction of the time (2,600 plan lines: ~0.1 s of an apply's start).
    Tabs, which rich expands by cell width, take rich's way."""
    if console.color_system is not None or "\t" in text.plain:
        console.print(text, end=end)
        return
    console.file.write(strip_control_codes(text.plain) + end)
    console.file.flush()


def write_stdout(text: str) -> None:
    """Machine-readable output goes to stdout untouched: no markup, wrapping or colour."""
    sys.stdout.write(text)
    sys.stdout.flush()


SpecDir = Annotated[
    Path,
    typer.Argument(
        metavar="SPECS",
        help="A spec file, or a folder of *.yaml/*.yml spec files read recursively "
        "(hidden folders such as .git/ are skipped).",
    ),
]
AllowEmptyOption = Annotated[
    bool,
    typer.Option(
        "--allow-empty",
        help="Accept spec files that declare no project (by default an error: an empty "
        "checkout or a wrong path would otherwise pass as valid).",
    ),
]


def require_projects(desired: DesiredState, path: Path, *, allow_empty: bool) -> None:
    """An empty spec set is almost always a mistake (a wrong path, an empty checkout);
    specs that are all for other engines (placement.py) are not empty."""
    if not desired.projects and not desired.elsewhere and not allow_empty:
        raise SpecPathError(
            f"{path}: the spec files declare no project (every document is empty); "
            "pass --allow-empty if that is meant"
        )


def note_elsewhere(desired: DesiredState, engine: EngineInfo) -> None:
    """Say on stderr which projects the engine's labels leave out, and that they are safe."""
    if desired.elsewhere:
        err.print(
            f"not for this engine (labels: {shown_labels(engine.labels)}): project "
            f"{', '.join(desired.elsewhere)}, by its targets: labels; not planned here, and "
            "its resources here are left alone",
            markup=False,
        )


HostOption = Annotated[
    str | None,
    typer.Option(
        "--host",
        "-H",
        metavar="ADDRESS",
        help="Engine endpoint: unix:///var/run/docker.sock, tcp://HOST:2376, "
        "ssh://USER@HOST[:PORT] (default: $DOCKER_HOST, else the Docker context).",
    ),
]
ContextOption = Annotated[
    str | None,
    typer.Option(
        "--context",
        "-c",
        metavar="NAME",
        help="Docker context to use, as `docker --context NAME` (default: $DOCKER_CONTEXT, "
        "else the docker config's current context; see `docker context ls`).",
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
        metavar="FILE",
        help="Host-path policy file (default: ./volplan.policy.yaml if present, else the "
        "built-in policy).",
    ),
]


HelperImageOption = Annotated[
    str | None,
    typer.Option(
        "--helper-image",
        metavar="IMAGE",
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
        metavar="DIR",
        help="Back up every volume to DIR/NAME-TIME.tar.gz before replacing it.",
    ),
]


def plan_options(
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


ENGINE_SCHEMES = ("unix", "tcp", "http", "https", "ssh", "npipe")
"""The schemes docker-py (like the docker CLI) connects over; ``HOST:PORT`` means tcp."""


def engine_endpoint(host: str | None, context: str | None) -> Endpoint:
    """The endpoint ``--host``/``--context`` and the environment select, as the CLI does."""
    endpoint = resolve_endpoint(host, context)
    check_address(endpoint.host)
    return endpoint


def connect(host: str | None, context: str | None) -> Engine:
    """The engine, with idempotent calls retried (and the fault-injection hook, in tests)."""
    endpoint = engine_endpoint(host, context)
    return with_crash_hook(RetryingEngine(DockerEngine.connect(endpoint)))


def check_address(endpoint: str) -> None:
    """A mistyped scheme is the user's mistake, not an engine that did not answer."""
    scheme, separator, _ = endpoint.partition("://")
    if separator and scheme not in ENGINE_SCHEMES:
        raise AddressError(
            f"{endpoint!r} is not an engine address: use unix:///PATH, tcp://HOST:PORT or "
            "ssh://USER@HOST (the schemes are " + ", ".join(ENGINE_SCHEMES) + ")"
        )
