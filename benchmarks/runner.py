"""Running one measured command: wall time, peak memory and the API requests it made."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.request_counter import CountingProxy, Request


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    requests: tuple[Request, ...]
    stdout: str

    @property
    def count(self) -> int:
        return len(self.requests)


class CommandFailed(Exception):
    """A measured command exited non-zero: the benchmark's numbers would mean nothing."""


def measure(argv: Sequence[str], proxy: CountingProxy, *, env: dict[str, str]) -> Measured:
    """Run ``argv`` with ``DOCKER_HOST`` at the proxy; the requests are those it alone made.

    ``wait4`` gives this one process's peak RSS (with its reaped children), where
    ``getrusage(RUSAGE_CHILDREN)`` would give the largest of every process run so far.
    """
    proxy.take()
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    run_env |= {"DOCKER_HOST": proxy.host, "NO_COLOR": "1", **env}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=run_env
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise CommandFailed(
                f"{' '.join(argv)} exited {process.returncode}:\n{err.read().decode()[-2000:]}"
            )
        out.seek(0)
        stdout = out.read().decode()
    return Measured(seconds, usage.ru_maxrss / 1024, tuple(proxy.take()), stdout)
