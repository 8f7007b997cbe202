"""Engine API requests, counted through a proxy in front of the real engine (issue 6).

A count is deterministic, so unlike timings it is asserted: a converged check costs the
same few list calls at every size, and a one-field change costs those reads plus the
writes that recreate exactly one container.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import RunCli, cli_runner
from support.engine import Engine

from benchmarks import topology
from benchmarks.request_counter import CountingProxy, summarise
from benchmarks.topology import Topology

CHECKS = {"plan": "No changes", "drift": "No drift"}
"""Commands that check a converged project, and what each says when all is in sync."""

SMALL, LARGER = 5, 40
MAX_CHECK_REQUESTS = 5
"""A ping, info, and the volume, container and image lists; image configs are cached."""
ENGINE_LOCK = Counter({"POST /containers/create": 1, "DELETE /containers/{}": 1})
"""apply takes the engine lock by creating a container and releases it by removing it."""
RECREATE_ONE = Counter(
    {
        "POST /containers/{}/stop": 1,
        "POST /containers/{}/rename": 1,
        "POST /containers/create": 1,
        "POST /containers/{}/start": 1,
        "DELETE /containers/{}": 1,
    }
)


@pytest.fixture
def proxy(clean_engine: Engine) -> Iterator[CountingProxy]:
    with CountingProxy(clean_engine.host) as counting:
        yield counting


def converge(run: RunCli, clean_engine: Engine, directory: Path, size: int) -> None:
    clean_engine.reset()
    topology.write(Topology.for_volumes(size), directory)
    result = run("apply", str(directory), "--yes")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(("command", "in_sync"), CHECKS.items())
def test_a_converged_check_makes_the_same_few_requests_at_every_size(
    proxy: CountingProxy, clean_engine: Engine, tmp_path: Path, command: str, in_sync: str
) -> None:
    run = cli_runner(proxy.host)
    counts = {}
    for size in (SMALL, LARGER):
        converge(run, clean_engine, tmp_path / f"n{size}", size)
        proxy.take()
        result = run(command, str(tmp_path / f"n{size}"))
        assert result.exit_code == 0, result.stderr
        assert in_sync in result.stdout
        counts[size] = summarise(proxy.take())
    assert counts[SMALL] == counts[LARGER]
    assert counts[SMALL].total() <= MAX_CHECK_REQUESTS
    assert counts[SMALL]["GET /containers/json"] == 1
    assert counts[SMALL]["GET /volumes"] == 1
    assert counts[SMALL]["GET /images/json"] == 1
    assert counts[SMALL]["GET /images/{}/json"] == 0


def test_a_cold_check_adds_one_image_inspect_per_distinct_image(
    proxy: CountingProxy, clean_engine: Engine, tmp_path: Path
) -> None:
    run = cli_runner(proxy.host)
    converge(run, clean_engine, tmp_path, SMALL)
    assert run("plan", str(tmp_path)).exit_code == 0
    proxy.take()
    assert run("plan", str(tmp_path)).exit_code == 0
    warm = summarise(proxy.take())

    result = run("plan", str(tmp_path), env={"VOLPLAN_NO_CACHE": "1"})

    assert result.exit_code == 0, result.stderr
    assert summarise(proxy.take()) == warm + Counter({"GET /images/{}/json": 1})


def test_flipping_one_mount_costs_the_reads_plus_one_recreate(
    proxy: CountingProxy, clean_engine: Engine, tmp_path: Path
) -> None:
    run = cli_runner(proxy.host)
    topo = Topology.for_volumes(LARGER)
    converge(run, clean_engine, tmp_path, LARGER)
    proxy.take()
    assert run("plan", str(tmp_path)).exit_code == 0
    check = summarise(proxy.take())
    topology.write(topo, tmp_path, flipped=True)
    result = run("apply", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.stderr
    requests = proxy.take()
    made = summarise(requests)
    reads = Counter({route: n for route, n in made.items() if route.startswith("GET ")})
    writes = made - reads
    image_checks = reads.pop("GET /images/{}/json", 0)
    assert reads == check
    assert 1 <= image_checks <= 2  # the lock's helper image, the specs' image
    assert writes == RECREATE_ONE + ENGINE_LOCK
    assert sum("name=volplan-lock-" in r.path for r in requests) == 1
    mounts = clean_engine.inspect_container(topology.RUNNING)["Mounts"]
    assert {m["Destination"]: m["RW"] for m in mounts}["/mnt/v0"] is True
    assert clean_engine.inspect_container(topology.RUNNING)["State"]["Running"] is True
