"""``volplan watch``: keep reconciling, reporting drift and (with ``--self-heal``) healing it.

The watch itself (``reconciler.watch``) and ``prometheus_client`` are imported in the
command's body: no other command's start-up pays for them.
"""

from __future__ import annotations

import signal
import sys
import threading
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.fleet import TargetOption, TargetsOption
from reconciler.cli.options import (
    ContextOption,
    HostOption,
    PolicyOption,
    SpecDir,
    connect,
    engine_endpoint,
    err,
    require_projects,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from reconciler.engine.base import Engine
    from reconciler.pipeline import Specs
    from reconciler.watch.loop import TargetWatch

DEFAULT_INTERVAL = 300.0

watch_app = typer.Typer()


@watch_app.command(
    epilog="Examples: volplan watch specs/ ; volplan watch specs/ --self-heal "
    "--metrics-addr 127.0.0.1:9100 ; volplan watch specs/ --interval 60 | tee status.jsonl"
)
def watch(
    directory: SpecDir,
    *,
    host: HostOption = None,
    context: ContextOption = None,
    self_heal: Annotated[
        bool,
        typer.Option(
            "--self-heal",
            help="Apply the fixes that are safe or only restart containers (never one that "
            "destroys data: those are reported), under the lock, one apply at a time.",
        ),
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            min=0.1,
            metavar="SECONDS",
            help="Seconds between full syncs, besides the ones events and spec changes start.",
        ),
    ] = DEFAULT_INTERVAL,
    metrics_addr: Annotated[
        str | None,
        typer.Option(
            "--metrics-addr",
            metavar="IP:PORT",
            help="Serve Prometheus metrics (/metrics) and /healthz on this loopback address, "
            "e.g. 127.0.0.1:9100 (port 0: any free port, shown on stderr).",
        ),
    ] = None,
    policy: PolicyOption = None,
    targets: TargetsOption = None,
    target_names: TargetOption = None,
) -> None:
    """Watch the engine and keep it in line with the specs until stopped (SIGTERM, Ctrl-C).

    Follows the engine's events, and syncs in full every --interval and when the spec
    files change. Each drift is one line on stderr; after every sync and heal one JSON
    status line goes to stdout (kind volplan.watch.status). Exits 0 when stopped.

    With --targets, every engine of the targets file is watched at once, each on its
    own, with its own lock; logs are prefixed by the target's name.
    """
    from reconciler.watch.loop import TargetWatch, WatchSettings
    from reconciler.watch.metrics import ListenAddress, MetricsServer, WatchMetrics

    address = ListenAddress.parse(metrics_addr) if metrics_addr is not None else None
    metrics = WatchMetrics()
    stop = threading.Event()
    watches = []
    engines = _engines(
        directory, policy=policy, host=host, context=context, targets=targets, names=target_names
    )
    for name, connect_one, load_specs in engines:
        specs = load_specs()
        require_projects(specs.desired, directory, allow_empty=False)
        settings = WatchSettings(directory, load_specs, self_heal, interval)
        watches.append(
            TargetWatch(
                name, connect_one, specs, settings, metrics, log=_log, emit=_emit, stop=stop
            )
        )
    server = None
    if address is not None:
        server = MetricsServer(address, metrics, lambda: _health(watches))
        server.start()
        _log(f"metrics on {server.url}/metrics, health on {server.url}/healthz")
    mode = "self-healing" if self_heal else "reporting"
    _log(f"watching {directory} ({mode}; full sync every {interval:g}s)")
    _stop_on_signals(stop, watches)
    try:
        _run_all(watches)
    finally:
        if server is not None:
            server.close()
    _log("stopped")


Engines = list[tuple[str, "Callable[[], Engine]", "Callable[[], Specs]"]]


def _engines(
    directory: Path,
    *,
    policy: Path | None,
    host: str | None,
    context: str | None,
    targets: Path | None,
    names: list[str] | None,
) -> Engines:
    """Each engine to watch: its name, how to connect, how to load its specs (a target's
    ``variables:`` are its own)."""
    from reconciler.cli.fleet import DEFAULT_PARALLEL_TARGETS, connect_target, fleet_of
    from reconciler.pipeline import load
    from reconciler.policy.selection import load_policy
    from reconciler.watch.status_line import DEFAULT_TARGET

    enforced = load_policy(policy, spec_dir=directory)
    fleet = fleet_of(targets, names, DEFAULT_PARALLEL_TARGETS, host, context)
    if fleet is None:
        endpoint = engine_endpoint(host, context).host
        return [
            (
                DEFAULT_TARGET,
                partial(connect, host, context),
                partial(load, directory, policy=enforced, endpoint=endpoint),
            )
        ]
    return [
        (
            t.name,
            partial(connect_target, t),
            partial(load, directory, policy=enforced, endpoint=t.host or "", variables=t.variables),
        )
        for t in fleet.targets
    ]


def _run_all(watches: list[TargetWatch]) -> None:
    """One watch in this thread (where the lock's SIGTERM handling works); several, each in
    a thread of its own, this one waiting (and so taking the signals) until all returned."""
    if len(watches) == 1:
        watches[0].run()
        return
    threads = [threading.Thread(target=w.run, name=f"volplan-watch-{w.name}") for w in watches]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)


def _stop_on_signals(stop: threading.Event, targets: list[TargetWatch]) -> None:
    """SIGTERM and SIGINT end the watch: the loop finishes what it does, then returns (a
    heal under the lock is cut short by the lock's own handler, crash-safely)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()
        for target in targets:
            target.wake()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _health(targets: list[TargetWatch]) -> list[str]:
    return [f"{t.name}: {t.problem}" for t in targets if t.problem is not None]


def _log(line: str) -> None:
    err.print(line, markup=False)


def _emit(line: str) -> None:
    sys.stdout.write(line)
    sys.stdout.flush()
