"""The fleet's rows (``--fleet``): one spec set planned and applied across private engines.

Fleet plan: ``volplan plan --targets`` across eight converged engines against the slowest
of the single-engine plans of the same engines (each timed alone, fastest run kept), and
the requests each engine gets from the fleet's plan against those of its own plan: a
fleet must cost each engine no more than a plan of it alone. Fleet apply: ``volplan
apply --targets --yes`` from empty on four engines against the same four applied one
after another (their times summed). Each engine has a counting proxy of its own in front.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import docker

from benchmarks import topology
from benchmarks.request_counter import CountingProxy
from benchmarks.runner import measure
from benchmarks.topology import Topology
from benchmarks.workloads import VOLPLAN, Bench, Row

PLAN_ENGINES, APPLY_ENGINES = 8, 4
FLEET_PLAN_RATIO = 1.3
FLEET_APPLY_RATIO = 0.4
ENGINE_SH = Path(__file__).resolve().parents[1] / "scripts" / "engine.sh"


def fleet_rows(workdir: Path, repeats: int, n: int) -> Iterator[Row]:
    """Both rows, on ``PLAN_ENGINES`` engines started for them and stopped after."""
    topo = Topology.for_volumes(n)
    directory = workdir / f"fleet-n{n}"
    topology.write(topo, directory)
    with _engines(PLAN_ENGINES) as hosts, ExitStack() as stack:
        proxies = [stack.enter_context(CountingProxy(host)) for host in hosts]
        benches = [
            Bench(docker.APIClient(base_url=host, version="auto"), proxy, workdir, repeats, 0, [])
            for host, proxy in zip(hosts, proxies, strict=True)
        ]
        yield _fleet_apply(benches[:APPLY_ENGINES], directory, workdir, n, repeats)
        fleet = _targets_file(workdir / "fleet.yaml", proxies)
        for bench in benches:
            bench.reset()
        _fleet(("apply", str(directory), "--yes"), fleet, proxies)
        yield _fleet_plan(benches, directory, fleet, n, repeats)


def _fleet_apply(benches: list[Bench], directory: Path, workdir: Path, n: int, repeats: int) -> Row:
    """Fastest of up to two rounds, each: the engines one after another, then at once."""
    proxies = [b.proxy for b in benches]
    fleet = _targets_file(workdir / "apply.yaml", proxies)
    one_by_one, at_once = [], []
    for _ in range(min(2, repeats)):
        for bench in benches:
            bench.reset()
        one_by_one.append(
            sum(
                measure((*VOLPLAN, "apply", str(directory), "--yes"), b.proxy).seconds
                for b in benches
            )
        )
        for bench in benches:
            bench.reset()
        at_once.append(_fleet(("apply", str(directory), "--yes"), fleet, proxies)[0])
    ours, floor = min(at_once), min(one_by_one)
    return _row(
        f"fleet apply from empty, {len(benches)} engines (floor: one after another)",
        n,
        (ours, floor),
        None,
        target=f"ratio <= {FLEET_APPLY_RATIO}",
        met=ours <= FLEET_APPLY_RATIO * floor,
    )


def _fleet_plan(benches: list[Bench], directory: Path, fleet: Path, n: int, repeats: int) -> Row:
    """Rounds of: each engine's own plan, then the fleet's; fastest of each kept."""
    singles: list[list[float]] = [[] for _ in benches]
    fleets: list[float] = []
    single_requests: list[int] = []
    fleet_requests: list[int] = []
    proxies = [b.proxy for b in benches]
    for _ in range(repeats):
        for times, bench in zip(singles, benches, strict=True):
            measured = measure((*VOLPLAN, "plan", str(directory)), bench.proxy)
            times.append(measured.seconds)
            single_requests.append(measured.count)
        seconds, counts = _fleet(("plan", str(directory)), fleet, proxies)
        fleets.append(seconds)
        fleet_requests += counts
    slowest = max(min(times) for times in singles)
    ours = min(fleets)
    same = set(fleet_requests) == set(single_requests) and len(set(single_requests)) == 1
    return _row(
        f"fleet plan, no changes, {len(benches)} engines (floor: slowest single-engine plan)",
        n,
        (ours, slowest),
        (max(fleet_requests), max(single_requests)),
        target=f"ratio <= {FLEET_PLAN_RATIO}, requests per engine those of a single plan",
        met=ours <= FLEET_PLAN_RATIO * slowest and same,
    )


def _row(
    workload: str,
    n: int,
    seconds: tuple[float, float],
    requests: tuple[int, int] | None,
    *,
    target: str,
    met: bool,
) -> Row:
    """A row with volplan's and the floor's times (and requests, per engine), no CLI."""
    ours, floor = requests or (None, None)
    return Row(workload, n, *seconds, None, ours, floor, None, None, target, met)


def _fleet(
    args: tuple[str, ...], fleet: Path, proxies: list[CountingProxy]
) -> tuple[float, list[int]]:
    """A fleet run's time, and the requests each engine got from it."""
    for proxy in proxies:
        proxy.take()
    measured = measure((*VOLPLAN, *args, "--targets", str(fleet)), proxies[0])
    return measured.seconds, [measured.count, *(len(p.take()) for p in proxies[1:])]


def _targets_file(path: Path, proxies: list[CountingProxy]) -> Path:
    lines = ["version: 1", "targets:"]
    for number, proxy in enumerate(proxies):
        lines += [f"  engine-{number}:", f"    host: {proxy.host}"]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def _engines(count: int) -> Iterator[list[str]]:
    """``count`` private engines (scripts/engine.sh), started at once, stopped after."""
    directories = [tempfile.mkdtemp(prefix=f"vpf{i}-", dir="/tmp") for i in range(count)]
    try:
        with ThreadPoolExecutor(count) as pool:
            hosts = list(pool.map(_start, directories))
        yield hosts
    finally:
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(_stop, directories))


def _start(directory: str) -> str:
    started = subprocess.run(
        [str(ENGINE_SH), "start", directory], capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        raise SystemExit(f"could not start a private engine:\n{started.stderr}")
    return started.stdout.splitlines()[-1]


def _stop(directory: str) -> None:
    subprocess.run([str(ENGINE_SH), "stop", directory], capture_output=True, check=False)
