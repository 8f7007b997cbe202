"""The benchmark's workloads, each measured side by side with its floor on one engine.

Every workload yields ``Row``s: volplan's time, the floor's, their ratio, the API requests
each made and volplan's peak memory, with the issue's target for that row and whether it
is met. Timed commands run ``repeats`` times and keep their fastest run, the usual way to
see through the noise of a shared machine; request counts are the same on every run.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import docker
from ruamel.yaml import YAML

from benchmarks import floor_cli, topology
from benchmarks.request_counter import CountingProxy, Request, summarise
from benchmarks.runner import Measured, measure, peak_rss_mb
from benchmarks.topology import Topology
from reconciler.engine.adapter import DockerEngine
from reconciler.pipeline import load_and_read, plan
from reconciler.policy.rules import DEFAULT_POLICY
from reconciler.spec.files import read_spec_dir
from reconciler.spec.loader import build_desired_state

HERE = Path(__file__).resolve().parent
VOLPLAN = (sys.executable, "-m", "reconciler")
NO_CACHE = ("env", "VOLPLAN_NO_CACHE=1")
"""Prefix for a run that validates its specs afresh, as the first run after a change does."""
FLOOR_SDK = (sys.executable, str(HERE / "floor_sdk.py"))
CHECK_RATIO = 1.5
APPLY_RATIO = 0.7
VALIDATE_RATIO = 1.5
FLIP_RATIO = 1.5
"""Issue 12: one changed field at most 1.5x the SDK script's recreate."""
MAX_CHECK_REQUESTS = 5
"""A ping, info, and the volume, container and image lists, at every size."""
COLD_IMAGE_INSPECTS = 1
"""With no cache, a check also inspects each distinct image: the topology uses one."""
MAX_RSS_MB = 150
_IMAGE_INSPECT = re.compile(r"/images/[^?]+/json")
"""``GET /images/{name}/json``: an image check (the lock's helper image, the specs')."""


@dataclass(frozen=True)
class Row:
    workload: str
    n: int
    volplan_s: float
    floor_s: float
    cli_s: float | None
    volplan_requests: int | None
    floor_requests: int | None
    cli_requests: int | None
    volplan_rss_mb: float | None
    target: str
    met: bool

    @property
    def ratio(self) -> float:
        return self.volplan_s / self.floor_s


@dataclass
class Bench:
    """What every workload needs: the engine (direct and through the proxy) and options."""

    client: docker.APIClient
    proxy: CountingProxy
    workdir: Path
    repeats: int
    cli_max: int
    """Largest N the docker CLI script is run at for creates (a process per call is slow)."""
    notes: list[str]

    def run(self, argv: tuple[str, ...], *, repeats: int = 1) -> Measured:
        """The fastest of ``repeats`` runs."""
        return min((measure(argv, self.proxy) for _ in range(repeats)), key=lambda m: m.seconds)

    def shell(self, script: str, *, repeats: int = 1) -> Measured:
        return self.run(("bash", "-c", script), repeats=repeats)

    def interleaved(self, *commands: tuple[str, ...]) -> list[Measured]:
        """The fastest run of each command, runs taken in turns so load bursts hit all."""
        rounds = [[measure(argv, self.proxy) for argv in commands] for _ in range(self.repeats)]
        return [min(runs, key=lambda m: m.seconds) for runs in zip(*rounds, strict=True)]

    def reset(self) -> None:
        """Empty the engine, many removals at once (not measured)."""
        with ThreadPoolExecutor(8) as pool:
            ids = [c["Id"] for c in self.client.containers(all=True)]
            list(pool.map(lambda i: self.client.remove_container(i, force=True), ids))
            names = [v["Name"] for v in self.client.volumes()["Volumes"] or []]
            list(pool.map(lambda n: self.client.remove_volume(n, force=True), names))


def validate(bench: Bench, topo: Topology) -> Row:
    """Target 4: load and validate vs the C safe loader's parse alone, in this process."""
    directory = bench.workdir / "validate"
    paths = topology.write(topo, directory)
    yaml = YAML(typ="safe", pure=False)
    floor = _fastest(lambda: [yaml.load(p.read_bytes()) for p in paths], bench.repeats)
    ours = _fastest(lambda: build_desired_state(read_spec_dir(directory)), bench.repeats)
    return Row(
        f"validate ({topo.containers} containers, {topo.files} files)",
        topo.volumes,
        ours,
        floor,
        None,
        None,
        None,
        None,
        None,
        f"ratio <= {VALIDATE_RATIO}",
        ours <= VALIDATE_RATIO * floor,
    )


def _fastest(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def apply_from_empty(bench: Bench, topo: Topology, directory: Path) -> Row:
    """Target 2: volplan apply from an empty engine vs the sequential SDK script.

    The two alternate (up to twice each, fastest kept), so a burst of load from elsewhere
    on the machine does not land on one side only.
    """
    floors, ours = [], []
    for _ in range(min(2, bench.repeats)):
        bench.reset()
        floors.append(bench.run((*FLOOR_SDK, "create", str(directory))))
        bench.reset()
        ours.append(bench.run((*VOLPLAN, "apply", str(directory), "--yes")))
    floor = min(floors, key=lambda m: m.seconds)
    volplan = min(ours, key=lambda m: m.seconds)
    cli = None
    if topo.volumes <= bench.cli_max:
        bench.reset()
        cli = bench.shell(floor_cli.create_script(directory))
        bench.reset()
        bench.run((*VOLPLAN, "apply", str(directory), "--yes"))
    return Row(
        "apply from empty",
        topo.volumes,
        volplan.seconds,
        floor.seconds,
        cli.seconds if cli else None,
        volplan.count,
        floor.count,
        cli.count if cli else None,
        None,
        f"ratio <= {APPLY_RATIO}",
        volplan.seconds <= APPLY_RATIO * floor.seconds,
    )


def check(bench: Bench, topo: Topology, directory: Path, command: str, *, cold: bool) -> Row:
    """Target 1 (and 5): a no-change plan or drift check vs load + two list calls.

    Warm, the specs come from the cache of validated specs, as on every run after the
    first on unchanged specs (a scheduled drift check); cold, they are parsed and
    validated, as on the first run after a change (a merge request's plan).
    """
    ours_argv = (*(NO_CACHE if cold else ()), *VOLPLAN, command, str(directory))
    ours, floor, cli = bench.interleaved(
        ours_argv,
        (*FLOOR_SDK, "check", str(directory)),
        ("bash", "-c", floor_cli.check_script()),
    )
    ours = replace(ours, peak_rss_mb=peak_rss_mb(ours_argv, bench.proxy))
    if not cold:
        bench.notes.append(f"`volplan {command}` at N = {topo.volumes}: {_routes(ours.requests)}")
    fast = ours.seconds <= CHECK_RATIO * floor.seconds
    most = MAX_CHECK_REQUESTS + (COLD_IMAGE_INSPECTS if cold else 0)
    few = ours.count <= most
    small = ours.peak_rss_mb is not None and ours.peak_rss_mb < MAX_RSS_MB
    return Row(
        f"{command}, no changes{', specs not cached' if cold else ''}",
        topo.volumes,
        ours.seconds,
        floor.seconds,
        cli.seconds,
        ours.count,
        floor.count,
        cli.count,
        ours.peak_rss_mb,
        f"ratio <= {CHECK_RATIO}, <= {most} requests, < {MAX_RSS_MB} MB",
        fast and few and small,
    )


def check_in_process(bench: Bench, topo: Topology, directory: Path) -> Row:
    """Target 1 without interpreter start-up: volplan's pipeline vs load + two list calls.

    Both sides run in this process, imports done, so the row shows the work a plan adds
    over the floor; the CLI rows add each side's Python start and imports to it. The
    specs are validated every time (no cache), as the floor parses them every time.
    """
    engine = DockerEngine.connect(bench.proxy.host)
    client = docker.APIClient(base_url=bench.proxy.host, version="auto")
    yaml = YAML(typ="safe", pure=False)
    paths = sorted(directory.glob("*.yaml"))

    def floor() -> object:
        return (
            [yaml.load(p.read_bytes()) for p in paths],
            client.volumes(),
            client.containers(all=True),
        )

    bench.proxy.take()
    os.environ["VOLPLAN_NO_CACHE"] = "1"
    try:
        ours = _fastest(
            lambda: plan(*load_and_read(directory, lambda: engine, policy=DEFAULT_POLICY)),
            bench.repeats,
        )
    finally:
        del os.environ["VOLPLAN_NO_CACHE"]
    ours_requests = len(bench.proxy.take()) // bench.repeats
    theirs = _fastest(floor, bench.repeats)
    floor_requests = len(bench.proxy.take()) // bench.repeats
    return Row(
        "plan pipeline, in process",
        topo.volumes,
        ours,
        theirs,
        None,
        ours_requests,
        floor_requests,
        None,
        None,
        f"ratio <= {CHECK_RATIO}",
        ours <= CHECK_RATIO * theirs,
    )


def flip_one_mount(bench: Bench, topo: Topology, directory: Path, check_requests: int) -> Row:
    """Target 3: one consumer's mount flipped costs the check's reads plus one recreate,
    at most ``FLIP_RATIO`` times the SDK script's recreate (stop, remove, create, start).

    In rounds, the two in turns: volplan applies the mount flipped (ro -> rw, then back),
    then the floor recreates the container as the specs now say, keeping its labels, so
    that both always recreate the same container from the same state.
    """
    ours, floors = [], []
    for round_ in range(bench.repeats):
        topology.write(topo, directory, flipped=round_ % 2 == 0)
        ours.append(bench.run((*VOLPLAN, "apply", str(directory), "--yes")))
        floors.append(bench.run((*FLOOR_SDK, "recreate", str(directory), topology.RUNNING)))
    if bench.repeats % 2:  # the specs as the other workloads expect them, applied
        topology.write(topo, directory)
        bench.run((*VOLPLAN, "apply", str(directory), "--yes"))
    volplan = min(ours, key=lambda m: m.seconds)
    floor = min(floors, key=lambda m: m.seconds)
    reads = [r for r in volplan.requests if r.method in {"GET", "HEAD"}]
    lock = [r for r in volplan.requests if "name=volplan-lock-" in r.path]
    writes = [r for r in volplan.requests if r.method not in {"GET", "HEAD"}]
    routes = _routes(volplan.requests)
    bench.notes.append(f"flip one mount, volplan at N = {topo.volumes}: {routes}")
    bench.notes.append(f"flip one mount, SDK floor: {_routes(floor.requests)}")
    image_checks = [r for r in reads if _IMAGE_INSPECT.search(r.path)]  # not the list
    recreate = len(writes) - 2 * len(lock)  # the engine lock is one create and one remove
    return Row(
        "flip one mount ro->rw",
        topo.volumes,
        volplan.seconds,
        floor.seconds,
        None,
        volplan.count,
        floor.count,
        None,
        volplan.peak_rss_mb,
        f"ratio <= {FLIP_RATIO}; {check_requests} reads + image checks + lock + 5 writes",
        volplan.seconds <= FLIP_RATIO * floor.seconds
        and len(reads) - len(image_checks) == check_requests
        and recreate == 5,
    )


def _routes(requests: tuple[Request, ...]) -> str:
    counted = summarise(list(requests))
    return ", ".join(f"{route} x{n}" if n > 1 else route for route, n in counted.items())


def sizes_agree(rows: list[Row], workload: str) -> Iterator[str]:
    """Target 1's "does not grow": the check's request count is the same at every size."""
    counts = {r.volplan_requests for r in rows if r.workload == workload}
    if len(counts) > 1:
        yield f"{workload}: request counts differ between sizes: {sorted(map(str, counts))}"
