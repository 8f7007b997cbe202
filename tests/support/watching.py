"""A running ``volplan watch`` for tests: its status lines and log lines as they come.

Every wait is event-driven (a line arrives, or the engine answers) with a deadline; a test
never sleeps a fixed time.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from support.gitops import start_cli

Status = dict[str, Any]


class RunningWatch:
    """``volplan watch`` in the background; stdout parsed as status lines, stderr kept."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.statuses: queue.Queue[Status] = queue.Queue()
        self.log: list[str] = []
        self._log_changed = threading.Condition()
        assert process.stdout is not None
        assert process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read_statuses, args=(process.stdout,), daemon=True),
            threading.Thread(target=self._read_log, args=(process.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_statuses(self, stream: IO[str]) -> None:
        for line in stream:
            self.statuses.put(json.loads(line))

    def _read_log(self, stream: IO[str]) -> None:
        for line in stream:
            with self._log_changed:
                self.log.append(line.rstrip("\n"))
                self._log_changed.notify_all()

    def next_status(self, accept: Callable[[Status], bool], timeout: float = 20) -> Status:
        """The first status line from now on that ``accept`` takes."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                status = self.statuses.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.process.poll() is not None and self.statuses.empty():
                    break
                continue
            if accept(status):
                return status
        raise AssertionError(f"no such status line within {timeout}s; log:\n" + self.text)

    def wait_for_log(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first log line (from the start) that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        with self._log_changed:
            while True:
                for line in self.log:
                    if found := re.search(pattern, line):
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"no log line matches {pattern!r}; log:\n{self.text}")
                self._log_changed.wait(timeout=left)

    @property
    def text(self) -> str:
        return "\n".join(self.log)

    def get(self, path: str) -> tuple[int, str]:
        """GET ``path`` from the metrics address the watch logged (straight to it: no
        proxy from the environment is asked)."""
        host, port = self.wait_for_log(r"metrics on http://([0-9.]+):(\d+)/metrics").groups()
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("GET", path)
            answer = connection.getresponse()
            return answer.status, answer.read().decode()
        finally:
            connection.close()

    def scrape(self) -> dict[str, float]:
        """The metrics page as ``{'name{labels}': value}``."""
        status, body = self.get("/metrics")
        assert status == 200, body
        samples = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples

    def close(self) -> None:
        """Once the process has ended: read what is left, close the pipes."""
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code once it has stopped."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.close()
        return code


@contextmanager
def watching(docker_host: str, *args: str, cwd: Path) -> Iterator[RunningWatch]:
    """``volplan watch ARGS`` until the block ends; killed if it is still running then."""
    running = RunningWatch(start_cli(docker_host, "watch", *args, cwd=cwd))
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=30)
        running.close()


def in_sync(status: Status) -> bool:
    return bool(status["in_sync"])
