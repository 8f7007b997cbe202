"""The fleet's rows (``--fleet``): one spec set planned and applied across private engines.

Fleet plan: ``volplan plan --targets`` across eight converged engines against the slowest
of the single-engine plans of the same engines (each timed alone, fastest run kept), and
the requests each engine gets from the fleet's plan against those of its own plan: a
fleet must cost each engine no more than a plan of it alone. Fleet apply: ``volplan
apply --targets --yes`` from empty on four engines against the same four applied one
after another (their times summed). Each engine has a counting proxy of its own in front.

The engines share this machine's CPUs with volplan and the proxies, which engines of a real
fleet, each on its host, do not. So each row's note also gives the CPU time the fleet's run
took, volplan's, the engines' (dockerd and its children) and the proxies', and what that
bounds. Until its first request volplan starts up alone (the engines have nothing to do
before they are asked); from then on, the rest of its CPU time and all of the engines'
and proxies' share the machine's CPUs, and volplan's own runs on one interpreter (a thread
at a time). No schedule on this machine ends before that.
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _FleetRun:
    """One fleet command: its wall time, the requests each engine got, the CPU it took, and
    how long after its start its first request reached an engine."""

    seconds: float
    requests: list[int]
    cpu: _Cpu
    first_request: float


@dataclass(frozen=True)
class _Cpu:
    volplan: float
    engines: float
    proxies: float

    @property
    def total(self) -> float:
        return self.volplan + self.engines + self.proxies

    def bound(self, first_request: float) -> float:
        """The least wall time this much CPU takes on this machine's CPUs when volplan sends
        its first request ``first_request`` seconds in: it is alone until then (its start-up
        runs on one interpreter, so it spent at most that much CPU), and after it the rest
        of its CPU and all the others' are spread over the CPUs, its own a thread at a time."""
        after = max(self.volplan - first_request, 0.0)
        shared = (after + self.engines + self.proxies) / (os.cpu_count() or 1)
        return first_request + max(shared, after)

    def described(self, first_request: float) -> str:
        return (
            f"{self.total:.2f} s CPU (volplan {self.volplan:.2f}, engines {self.engines:.2f}, "
            f"proxies {self.proxies:.2f}); its first request reached an engine "
            f"{first_request:.3f} s in, so at least {self.bound(first_request):.3f} s on "
            f"{os.cpu_count()} CPUs and one interpreter"
        )


def fleet_rows(workdir: Path, repeats: int, n: int, notes: list[str]) -> Iterator[Row]:
    """Both rows, on ``PLAN_ENGINES`` engines started for them and stopped after; what
    the machine's CPUs bound each ratio to goes to ``notes``."""
    topo = Topology.for_volumes(n)
    directory = workdir / f"fleet-n{n}"
    topology.write(topo, directory)
    with _engines(PLAN_ENGINES) as engines, ExitStack() as stack:
        proxies = [stack.enter_context(CountingProxy(host)) for host in engines.hosts]
        benches = [
            Bench(docker.APIClient(base_url=host, version="auto"), proxy, workdir, repeats, 0, [])
            for host, proxy in zip(engines.hosts, proxies, strict=True)
        ]
        four = _Fleet(benches[:APPLY_ENGINES], engines.first(APPLY_ENGINES), workdir / "4.yaml")
        yield _fleet_apply(four, directory, n, notes)
        eight = _Fleet(benches, engines, workdir / "8.yaml")
        eight.reset()
        eight.run(("apply", str(directory), "--yes"))
        yield _fleet_plan(eight, directory, n, repeats, notes)


class _Fleet:
    """Engines with their proxies and benches, and a targets file naming them all."""

    def __init__(self, benches: list[Bench], engines: _Engines, targets: Path) -> None:
        self.benches = benches
        self.engines = engines
        self.proxies = [b.proxy for b in benches]
        self.targets = _targets_file(targets, self.proxies)

    def reset(self) -> None:
        for bench in self.benches:
            bench.reset()

    def run(self, args: tuple[str, ...]) -> _FleetRun:
        """A fleet command's time, the requests each engine got from it, the CPU it took."""
        for proxy in self.proxies:
            proxy.take()
        engines_before, proxies_before = self.engines.cpu_seconds(), _own_cpu_seconds()
        measured = measure((*VOLPLAN, *args, "--targets", str(self.targets)), self.proxies[0])
        cpu = _Cpu(
            measured.cpu_seconds,
            self.engines.cpu_seconds() - engines_before,
            _own_cpu_seconds() - proxies_before,
        )
        requests = [list(measured.requests), *(p.take() for p in self.proxies[1:])]
        first = min(r.at for rs in requests for r in rs) - measured.started
        return _FleetRun(measured.seconds, [len(rs) for rs in requests], cpu, first)


def _fleet_apply(fleet: _Fleet, directory: Path, n: int, notes: list[str]) -> Row:
    """Fastest of two rounds, each: the engines one after another, then at once."""
    one_by_one: list[float] = []
    at_once: list[_FleetRun] = []
    for _ in range(2):
        fleet.reset()
        one_by_one.append(
            sum(
                measure((*VOLPLAN, "apply", str(directory), "--yes"), proxy).seconds
                for proxy in fleet.proxies
            )
        )
        fleet.reset()
        at_once.append(fleet.run(("apply", str(directory), "--yes")))
    fastest, floor = min(at_once, key=lambda run: run.seconds), min(one_by_one)
    notes.append(_bound_note("fleet apply", fastest, floor, "the engines one after another"))
    return _row(
        f"fleet apply from empty, {len(fleet.benches)} engines (floor: one after another)",
        n,
        (fastest.seconds, floor),
        None,
        target=f"ratio <= {FLEET_APPLY_RATIO}",
        met=fastest.seconds <= FLEET_APPLY_RATIO * floor,
    )


def _fleet_plan(fleet: _Fleet, directory: Path, n: int, repeats: int, notes: list[str]) -> Row:
    """Rounds of: each engine's own plan, then the fleet's; fastest of each kept."""
    singles: list[list[float]] = [[] for _ in fleet.benches]
    fleets: list[_FleetRun] = []
    single_requests: list[int] = []
    fleet_requests: list[int] = []
    for _ in range(repeats):
        for times, proxy in zip(singles, fleet.proxies, strict=True):
            measured = measure((*VOLPLAN, "plan", str(directory)), proxy)
            times.append(measured.seconds)
            single_requests.append(measured.count)
        run = fleet.run(("plan", str(directory)))
        fleets.append(run)
        fleet_requests += run.requests
    slowest = max(min(times) for times in singles)
    fastest = min(fleets, key=lambda run: run.seconds)
    notes.append(_bound_note("fleet plan", fastest, slowest, "the slowest single-engine plan"))
    same = set(fleet_requests) == set(single_requests) and len(set(single_requests)) == 1
    return _row(
        f"fleet plan, no changes, {len(fleet.benches)} engines (floor: slowest single-engine plan)",
        n,
        (fastest.seconds, slowest),
        (max(fleet_requests), max(single_requests)),
        target=f"ratio <= {FLEET_PLAN_RATIO}, requests per engine those of a single plan",
        met=fastest.seconds <= FLEET_PLAN_RATIO * slowest and same,
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


def _bound_note(workload: str, run: _FleetRun, floor: float, floor_is: str) -> str:
    bound = run.cpu.bound(run.first_request)
    return (
        f"{workload}: {run.seconds:.3f} s, which took {run.cpu.described(run.first_request)}: "
        f"a ratio of at least {bound / floor:.2f} against {floor_is} ({floor:.3f} s) on this "
        "machine"
    )


def _own_cpu_seconds() -> float:
    """This process's CPU time: the proxies' threads, all but idle while nothing runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _targets_file(path: Path, proxies: list[CountingProxy]) -> Path:
    lines = ["version: 1", "targets:"]
    for number, proxy in enumerate(proxies):
        lines += [f"  engine-{number}:", f"    host: {proxy.host}"]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass(frozen=True)
class _Engines:
    """Private engines: their addresses and the folders scripts/engine.sh keeps them in."""

    hosts: list[str]
    directories: list[str]

    def first(self, count: int) -> _Engines:
        return _Engines(self.hosts[:count], self.directories[:count])

    def cpu_seconds(self) -> float:
        """CPU time so far of every engine's dockerd and the processes it started."""
        return sum(_tree_ticks(_dockerd_pid(d)) for d in self.directories) / _TICKS_PER_SECOND


_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _dockerd_pid(directory: str) -> int:
    return int(Path(directory, "dockerd.pid").read_text())


def _tree_ticks(pid: int) -> int:
    """User and system ticks of ``pid`` and, recursively, of its children."""
    proc = Path(f"/proc/{pid}")
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        children = (proc / "task" / str(pid) / "children").read_text().split()
    except OSError:  # gone since listed
        return 0
    return int(fields[11]) + int(fields[12]) + sum(_tree_ticks(int(c)) for c in children)


@contextmanager
def _engines(count: int) -> Iterator[_Engines]:
    """``count`` private engines (scripts/engine.sh), started at once, stopped after."""
    directories = [tempfile.mkdtemp(prefix=f"vpf{i}-", dir="/tmp") for i in range(count)]
    try:
        with ThreadPoolExecutor(count) as pool:
            hosts = list(pool.map(_start, directories))
        yield _Engines(hosts, directories)
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
