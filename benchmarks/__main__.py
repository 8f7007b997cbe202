"""``python -m benchmarks``: measure volplan against its floors on a private engine.

Starts the private test engine (scripts/engine.sh) unless ``--host`` names one, puts a
counting proxy in front of it, runs every workload at every size, prints one table and
writes it to ``benchmarks/results/<git-sha>.md``. A target not met is listed under the
table, not turned into an exit code: timings on a shared machine are evidence, not a gate.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker

from benchmarks import fleet_bench, table, topology, watch_bench, workloads
from benchmarks.request_counter import CountingProxy
from benchmarks.topology import Topology
from benchmarks.workloads import Bench, Row

ROOT = Path(__file__).resolve().parents[1]
ENGINE_SH = ROOT / "scripts" / "engine.sh"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sizes = parser.add_argument_group("sizes (volumes; a tenth as many data-volume containers")
    sizes.add_argument("--sizes", default="100,1000,3000", help="plan sizes (default: %(default)s)")
    sizes.add_argument("--apply-sizes", default="1000", help="apply sizes (default: %(default)s)")
    sizes.add_argument("--flip-size", type=int, default=500, help="one-field change size")
    sizes.add_argument("--validate-volumes", type=int, default=5000)
    sizes.add_argument("--validate-containers", type=int, default=1000)
    sizes.add_argument("--validate-files", type=int, default=50)
    sizes.add_argument(
        "--watch-sizes",
        default="",
        help="sizes for `volplan watch`'s heal-latency and resync rows (default: none)",
    )
    parser.add_argument(
        "--fleet",
        action="store_true",
        help="only the fleet rows (plan across 8 more private engines, apply across 4)",
    )
    parser.add_argument("--fleet-size", type=int, default=300, help="volumes per fleet engine")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs, fastest kept")
    parser.add_argument("--cli-max", type=int, default=100, help="largest N for CLI creates")
    parser.add_argument("--host", help="use this unix:// engine instead of starting one")
    parser.add_argument("--out", type=Path, help="results file (default: results/<sha>.md)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    with _engine(args.host) as host, tempfile.TemporaryDirectory(prefix="volplan-bench-") as tmp:
        os.environ["VOLPLAN_CACHE_DIR"] = str(Path(tmp) / "spec-cache")  # not the user's
        client = docker.APIClient(base_url=host, version="auto")
        with CountingProxy(host) as proxy:
            bench = Bench(client, proxy, Path(tmp), args.repeats, args.cli_max, notes=[])
            if args.fleet:
                rows = list(
                    map(
                        _progress,
                        fleet_bench.fleet_rows(
                            Path(tmp), args.repeats, args.fleet_size, bench.notes
                        ),
                    )
                )
            else:
                rows = list(_run_all(bench, args))
            bench.reset()
        problems = [*_unmet(rows), *workloads.sizes_agree(rows, "plan, no changes")]
        report = table.render(rows, bench.notes, problems, _machine(client))
    print(report)
    out = args.out or ROOT / "benchmarks" / "results" / f"{_git_sha()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out}", file=sys.stderr)
    return 0


def _run_all(bench: Bench, args: argparse.Namespace) -> Iterator[Row]:
    validate = Topology(
        args.validate_volumes,
        args.validate_containers // 5,
        args.validate_containers - args.validate_containers // 5,
        args.validate_files,
    )
    yield _progress(workloads.validate(bench, validate))
    apply_sizes = {int(n) for n in args.apply_sizes.split(",") if n}
    plan_sizes = {int(n) for n in args.sizes.split(",") if n}
    watch_sizes = {int(n) for n in args.watch_sizes.split(",") if n}
    for n in sorted(plan_sizes | apply_sizes | watch_sizes | {args.flip_size}):
        topo = Topology.for_volumes(n)
        directory = bench.workdir / f"n{n}"
        topology.write(topo, directory)
        if n in apply_sizes:
            yield _progress(workloads.apply_from_empty(bench, topo, directory))
        else:
            bench.reset()
            bench.run((*workloads.VOLPLAN, "apply", str(directory), "--yes"))
        check = _progress(workloads.check(bench, topo, directory, "plan", cold=False))
        if n in plan_sizes:
            yield check
            yield _progress(workloads.check(bench, topo, directory, "plan", cold=True))
            yield _progress(workloads.check_in_process(bench, topo, directory))
            yield _progress(workloads.check(bench, topo, directory, "drift", cold=False))
            yield _progress(workloads.check(bench, topo, directory, "drift", cold=True))
        if n in watch_sizes:
            yield _progress(watch_bench.heal_latency(bench, topo, directory))
            yield _progress(watch_bench.resync(bench, topo, directory, check.volplan_requests or 0))
        if n == args.flip_size:
            yield _progress(
                workloads.flip_one_mount(bench, topo, directory, check.volplan_requests or 0)
            )


def _progress(row: Row) -> Row:
    print(
        f"{row.workload} N={row.n}: volplan {row.volplan_s:.2f}s, floor {row.floor_s:.2f}s",
        file=sys.stderr,
    )
    return row


def _unmet(rows: list[Row]) -> Iterator[str]:
    for row in rows:
        if not row.met:
            yield (
                f"{row.workload} at N = {row.n}: target not met ({row.target}; measured: "
                f"ratio {row.ratio:.2f}, {row.volplan_requests} requests, "
                f"{row.volplan_rss_mb or 0:.0f} MB)"
            )


@contextmanager
def _engine(host: str | None) -> Iterator[str]:
    if host is not None:
        yield host
        return
    directory = tempfile.mkdtemp(prefix="vpbench-", dir="/tmp")
    started = subprocess.run(
        [str(ENGINE_SH), "start", directory], capture_output=True, text=True, check=False
    )
    try:
        if started.returncode != 0:
            raise SystemExit(f"could not start the private engine:\n{started.stderr}")
        yield started.stdout.splitlines()[-1]
    finally:
        subprocess.run([str(ENGINE_SH), "stop", directory], check=False)


def _machine(client: docker.APIClient) -> str:
    version = client.version()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {_git_sha()}, "
        f"{os.cpu_count()} CPUs, load average {load}, Python {platform.python_version()}, "
        f"Docker {version.get('Version')} (API {version.get('ApiVersion')})"
    )


def _git_sha() -> str:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
