"""Volume content on demand: ``backup`` and ``restore``.

The content modules (tar, hashing, progress bars) are imported by the commands that use
them, so that every other command starts without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.options import (
    ContextOption,
    HelperImageOption,
    HostOption,
    connect,
    err,
    out,
)
from reconciler.engine.base import DEFAULT_HELPER_IMAGE, Engine, ensure_image
from reconciler.errors import RefusedError
from reconciler.render.words import counted

if TYPE_CHECKING:
    from reconciler.content.backup import Summary

content = typer.Typer()

BACKUP_SUFFIXES = (".tar", ".tar.gz", ".tgz")
"""What backup writes: a tar, gzipped for the last two; any other name would lie about it."""


@content.command(
    epilog="Examples: volplan backup dbdata -o dbdata.tar.gz ; "
    "volplan backup container:dbstore -o dbstore.tar"
)
def backup(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="A volume, or a container (all its volumes): NAME, volume:NAME or container:NAME.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="The file to write: NAME.tar, or NAME.tar.gz / NAME.tgz (gzip).",
        ),
    ],
    host: HostOption = None,
    context: ContextOption = None,
    helper_image: HelperImageOption = None,
) -> None:
    """Write a volume's content, or every volume of a container, to a tar file."""
    from reconciler.content.backup import backup as backup_target
    from reconciler.content.backup import resolve_target
    from reconciler.render.progress import byte_progress

    if not output.name.endswith(BACKUP_SUFFIXES):
        raise RefusedError(
            f"{output}: volplan writes tar archives only; name the file "
            "NAME.tar, NAME.tar.gz or NAME.tgz"
        )
    engine = connect(host, context)
    resolved = resolve_target(engine, target)
    image = _helper_image_ready(engine, helper_image)
    with byte_progress(err, f"backing up {resolved.kind} {resolved.name}") as progress:
        summary = backup_target(engine, image, resolved, output, progress)
    out.print(f"Backed up {resolved.kind} {resolved.name} to {output}: {_entries(summary)}.")


@content.command(
    epilog="Examples: volplan restore dbdata dbdata.tar.gz ; "
    "volplan restore container:dbstore dbstore.tar --force"
)
def restore(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="The volume (created if missing) or container to restore into: NAME, "
            "volume:NAME or container:NAME.",
        ),
    ],
    archive: Annotated[
        Path, typer.Argument(metavar="ARCHIVE", help="A file written by volplan backup.")
    ],
    *,
    force: Annotated[
        bool, typer.Option("--force", help="Restore into volumes that already hold data.")
    ] = False,
    host: HostOption = None,
    context: ContextOption = None,
    helper_image: HelperImageOption = None,
) -> None:
    """Restore a backup into a volume, or into the volumes of a container."""
    from reconciler.content.backup import resolve_target
    from reconciler.content.backup import restore as restore_target
    from reconciler.render.progress import byte_progress

    engine = connect(host, context)
    if not archive.is_file():
        raise RefusedError(f"{archive}: no such file")
    image = _helper_image_ready(engine, helper_image)
    resolved = resolve_target(engine, target, create_missing=True)
    with byte_progress(err, f"restoring {resolved.kind} {resolved.name}") as progress:
        summary = restore_target(engine, image, resolved, archive, force=force, progress=progress)
    out.print(f"Restored {archive} into {resolved.kind} {resolved.name}: {_entries(summary)}.")


def _entries(summary: Summary) -> str:
    return (
        f"{counted(summary.entries, 'entry', 'entries')}, "
        f"{counted(summary.content_bytes, 'byte')} of file content"
    )


def _helper_image_ready(engine: Engine, image: str | None) -> str:
    """The helper image, pulled if missing, before anything is touched."""
    chosen = image or DEFAULT_HELPER_IMAGE
    ensure_image(engine, chosen, lambda status: err.print(f"pulling {chosen}: {status}"))
    return chosen
