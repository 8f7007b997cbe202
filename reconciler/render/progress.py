"""A progress bar of bytes moved, for backup and restore; drawn on stderr, only on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)


@contextmanager
def byte_progress(console: Console, description: str) -> Iterator[Callable[[int], None]]:
    """Yield a callback taking the bytes just moved; the total is unknown up front."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=None)
        yield lambda count: progress.advance(task, count)
