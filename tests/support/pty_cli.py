"""Run the volplan CLI on a real pseudo-terminal, as a person at a terminal would.

For what only a terminal shows: escape codes (colour, bold, dim) and the confirmation
prompt, which volplan asks only when stdin is a terminal.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from support.cli import CliResult, engine_environment


def run_on_pty(
    *args: str,
    docker_host: str,
    typed: str = "",
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 60,
) -> CliResult:
    """Run ``volplan ARGS`` with stdin, stdout and stderr on one pty; ``typed`` is what the
    person types (ending it with ``\\x04``, Ctrl-D, sends the end of input). The output is
    both streams, as the terminal showed them, in ``stdout``."""
    run_env = engine_environment(docker_host) | {"TERM": "xterm-256color", "COLUMNS": "200"}
    for inherited in ("CI", "NO_COLOR", "FORCE_COLOR"):  # a terminal as a person has one
        run_env.pop(inherited, None)
    run_env |= env or {}
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=run_env,
        cwd=cwd,
        close_fds=True,
    )
    os.close(secondary)
    if typed:
        os.write(primary, typed.encode())
    shown = _read_until_exit(primary, process, time.monotonic() + timeout)
    os.close(primary)
    return CliResult(process.wait(timeout=timeout), shown.decode(errors="replace"), "")


def _read_until_exit(primary: int, process: subprocess.Popen[bytes], deadline: float) -> bytes:
    shown = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.2)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the pty closes (EIO) once the process and its children are gone
            break
        if not chunk:
            break
        shown += chunk
    else:
        process.kill()
    return shown
