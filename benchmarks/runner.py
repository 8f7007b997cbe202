"""Running one measured command: wall time, peak memory and the API requests it made."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.request_counter import CountingProxy, Request

PEAK_RSS = Path(__file__).resolve().parent / "peak_rss.py"


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float | None
    requests: tuple[Request, ...]
    stdout: str
    cpu_seconds: float = 0.0
    """The command's own CPU time, user and system, all its threads."""
    started: float = 0.0
    """When it was started, on ``time.perf_counter``'s clock (as ``Request.at``)."""

    @property
    def count(self) -> int:
        return len(self.requests)


class CommandFailed(Exception):
    """A measured command exited non-zero: the benchmark's numbers would mean nothing."""


def measure(argv: Sequence[str], proxy: CountingProxy) -> Measured:
    """Run ``argv`` with ``DOCKER_HOST`` at the proxy; the requests are those it alone made."""
    proxy.take()
    run_env = _environment(proxy)
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
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, None, tuple(proxy.take()), stdout, cpu, started)


def peak_rss_mb(argv: Sequence[str], proxy: CountingProxy) -> float:
    """One more run of ``argv``, under peak_rss.py (see there why): for commands that change
    nothing."""
    launcher = [sys.executable, str(PEAK_RSS), *argv]
    env = _environment(proxy)
    result = subprocess.run(launcher, env=env, capture_output=True, text=True, check=True)
    proxy.take()
    return float(result.stdout)


def _environment(proxy: CountingProxy) -> dict[str, str]:
    """This environment without DOCKER_*, pointed at the proxy; no colour, no prompts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return env | {"DOCKER_HOST": proxy.host, "NO_COLOR": "1", "CI": "true"}
