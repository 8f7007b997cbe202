"""``volplan watch``'s rows (``--watch``): heal latency, and what a no-change resync costs.

Heal latency is the time from ``docker rm -f`` of the topology's running container to its
replacement running (the engine's ``start`` event), with ``watch --self-heal`` following
the engine; its floor is the same removal followed by a script that creates and starts
the container at once, knowing what to create (floor_sdk.py's create): no detection, no
plan, no lock. The resync row runs the watch with the shortest interval, so it syncs
back to back, and divides the requests and time between status lines by their number.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from benchmarks import floor_sdk, topology
from benchmarks.runner import _environment
from benchmarks.topology import Topology
from benchmarks.workloads import FLOOR_SDK, VOLPLAN, Bench, Row, _routes

HEAL_TARGET_S = 2.0
RESYNC_LINES = 6
"""Status lines the resync row averages over (the first, the initial sync, not counted)."""


class _Watch:
    """A running watch whose status lines are counted as they arrive."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[tuple[float, dict[str, Any]]] = []
        self._arrived = threading.Condition()
        assert process.stdout is not None
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._arrived:
                self.lines.append((time.perf_counter(), json.loads(line)))
                self._arrived.notify_all()

    def wait_for(self, accept: Callable[[dict[str, Any]], bool], count: int) -> None:
        """Until ``count`` status lines (from the start) are ones ``accept`` takes."""
        with self._arrived:
            if not self._arrived.wait_for(
                lambda: sum(accept(s) for _, s in self.lines) >= count, 300
            ):
                raise RuntimeError("the watch did not print the status lines awaited")

    def wait_lines(self, count: int, timeout: float = 300) -> None:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.lines) >= count, timeout):
                raise RuntimeError(f"the watch printed {len(self.lines)} status lines, not {count}")


@contextmanager
def _watching(bench: Bench, directory: Path, *args: str) -> Iterator[_Watch]:
    process = subprocess.Popen(
        [*VOLPLAN, "watch", str(directory), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_environment(bench.proxy),
    )
    try:
        yield _Watch(process)
    finally:
        process.terminate()
        process.wait(timeout=60)
        assert process.stdout is not None
        process.stdout.close()


def heal_latency(bench: Bench, topo: Topology, directory: Path) -> Row:
    """rm -f of the running container -> running again: the watch vs creating it at once."""
    spec = next(
        doc["containers"][topology.RUNNING]
        for doc in floor_sdk.load(directory)
        if topology.RUNNING in doc["containers"]
    )
    heals = []
    with _watching(bench, directory, "--self-heal", "--interval", "3600") as watch:
        watch.wait_for(lambda s: s["in_sync"], 1)
        for done in range(1, bench.repeats + 1):
            heals.append(_rm_until_running(bench, lambda: None))
            # settled: the report after the heal, and the sync its own events started
            watch.wait_for(_healed(done), 2)
    floors = [
        _rm_until_running(
            bench, lambda: floor_sdk.create_container(bench.client, topology.RUNNING, spec)
        )
        for _ in range(bench.repeats)
    ]
    healed, floor = min(heals), min(floors)
    bench.notes.append(
        f"heal latency at N = {topo.volumes}: {', '.join(f'{s:.2f}' for s in sorted(heals))} s"
    )
    return Row(
        workload="watch --self-heal: rm -f -> running again",
        n=topo.volumes,
        volplan_s=healed,
        floor_s=floor,
        cli_s=None,
        volplan_requests=None,
        floor_requests=None,
        cli_requests=None,
        volplan_rss_mb=None,
        target=f"every heal < {HEAL_TARGET_S:g} s",
        met=max(heals) < HEAL_TARGET_S,
    )


def _healed(applies: int) -> Callable[[dict[str, Any]], bool]:
    return lambda status: bool(status["in_sync"]) and status["applies"] == applies


def _rm_until_running(bench: Bench, recreate: Callable[[], object]) -> float:
    """Seconds from ``rm -f`` of the running container to the engine's next start of it."""
    client = bench.client
    # With no since, the engine would replay the starts it remembers; to the second, the
    # last heal's start. docker-py passes a float on as it is (its stubs say int).
    now: Any = time.time()
    events = client.events(
        decode=True,
        filters={"event": "start", "container": topology.RUNNING},
        since=now,
        until=now + 120,
    )
    try:
        started = time.perf_counter()
        client.remove_container(topology.RUNNING, force=True)
        recreate()
        for _ in events:
            return time.perf_counter() - started
    finally:
        events.close()
    raise RuntimeError(f"{topology.RUNNING} was not started again within 120 s")


def resync(bench: Bench, topo: Topology, directory: Path, plan_requests: int) -> Row:
    """A full resync that finds nothing: its requests and time, vs ``volplan plan``'s."""
    with _watching(bench, directory, "--interval", "0.1") as watch:
        watch.wait_lines(1)
        bench.proxy.take()
        first = len(watch.lines)
        watch.wait_lines(first + RESYNC_LINES)
        requests = tuple(bench.proxy.take())
        (start, _), (end, _) = watch.lines[first - 1], watch.lines[first + RESYNC_LINES - 1]
    per_sync = len(requests) / RESYNC_LINES
    seconds = (end - start) / RESYNC_LINES - 0.1
    floor = bench.run((*FLOOR_SDK, "check", str(directory)), repeats=bench.repeats)
    bench.notes.append(
        f"watch resync at N = {topo.volumes}, {RESYNC_LINES} syncs: {_routes(requests)}"
    )
    return Row(
        "watch resync, no changes",
        topo.volumes,
        seconds,
        floor.seconds,
        None,
        round(per_sync),
        floor.count,
        None,
        None,
        f"<= {plan_requests} requests (one `volplan plan`)",
        per_sync <= plan_requests,
    )
