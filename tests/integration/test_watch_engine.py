"""``volplan watch`` on real engines: self-healing what is safe, only reporting what would
destroy data, metrics, an engine restart under it, and SIGTERM.

Every wait is for a status line, a log line or the engine's answer, with a deadline.
"""

from __future__ import annotations

import os
import select
import signal
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from support.cli import RunCli
from support.engine import Engine, start_engine, stop_engine
from support.gitops import SLOW, write_specs
from support.shared_engine import remove_projects
from support.watching import Status, in_sync, watching

pytestmark = pytest.mark.engine

LOOP = "[sh, -c, \"trap 'exit 0' TERM; while :; do sleep 1; done\"]"
SPEC = """\
version: 1
project: heal
volumes:
  heal-data: OPTS
containers:
  heal-app:
    image: busybox:latest
    command: LOOP
    network_mode: none
    stop_timeout: 1
    mounts: ["heal-data:/data"]
  heal-reader:
    image: busybox:latest
    command: LOOP
    network_mode: none
    stop_timeout: 1
    mounts: ["heal-data:/data:ro"]
"""
EXTRA = """\
  heal-extra:
    image: busybox:latest
    command: LOOP
    network_mode: none
    stop_timeout: 1
"""
NEW_OPTS = "{driver_opts: {type: tmpfs, device: tmpfs}}"
"""A change of a volume's driver options: only a replacement, which destroys data, makes it."""


def _spec(opts: str = "{}", extra: str = "") -> str:
    return (SPEC.replace("OPTS", opts) + extra).replace("LOOP", LOOP)


def _running(engine: Engine, name: str) -> tuple[str, bool]:
    state = engine.inspect_container(name)
    return state["Id"], bool(state["State"]["Running"])


def test_self_heal_heals_removed_stopped_and_volume_loss_and_only_reports_destruction(
    clean_engine: Engine, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path, _spec(), name="heal.yaml")
    args = ("specs", "--self-heal", "--interval", "60", "--metrics-addr", "127.0.0.1:0")
    with watching(clean_engine.host, *args, cwd=tmp_path) as watch:
        first = watch.next_status(in_sync)  # the first sync created everything
        assert first["applies"] == 1
        assert first["drift"] == {"heal": 0}
        status, body = watch.get("/healthz")
        assert (status, body) == (200, "ok\n")
        before = watch.scrape()

        # A removed container is created again.
        old_id, _ = _running(clean_engine, "heal-app")
        clean_engine.client.remove_container("heal-app", force=True)
        removed = watch.next_status(lambda s: in_sync(s) and s["applies"] == 2)
        new_id, running = _running(clean_engine, "heal-app")
        assert new_id != old_id
        assert running

        # A stopped container is started again.
        clean_engine.client.stop("heal-reader", timeout=1)
        watch.next_status(lambda s: in_sync(s) and s["applies"] == 3)
        assert _running(clean_engine, "heal-reader")[1]

        # A removed volume whose consumers were removed too: all of it comes back (empty:
        # its content went with it, which is why only a person removes a volume).
        os.kill(watch.process.pid, signal.SIGSTOP)  # so it cannot heal in between
        try:
            for name in ("heal-app", "heal-reader"):
                clean_engine.client.remove_container(name, force=True)
            clean_engine.client.remove_volume("heal-data")
        finally:
            os.kill(watch.process.pid, signal.SIGCONT)
        watch.next_status(lambda s: in_sync(s) and s["applies"] == 4)
        assert {"heal-app", "heal-reader"} <= clean_engine.container_names()
        assert "heal-data" in clean_engine.volume_names()
        assert _running(clean_engine, "heal-app")[1]
        assert _running(clean_engine, "heal-reader")[1]

        # A volume whose options changed in the spec is only reported; the rest heals.
        clean_engine.exec_sh("heal-app", "echo precious > /data/f")
        volume = clean_engine.inspect_volume("heal-data")
        (specs / "heal.yaml").write_text(_spec(NEW_OPTS, EXTRA))
        held = watch.next_status(lambda s: s["applies"] == 5)
        watch.wait_for_log(r"drift: volume\.heal-data: changed: .*its fix destroys data")
        watch.wait_for_log(r"^  ! replace volume\.heal-data \[destroys-data\]")
        assert held["in_sync"] is False
        assert held["drift"] == {"heal": 1}
        assert _running(clean_engine, "heal-extra")[1]
        assert clean_engine.inspect_volume("heal-data") == volume
        assert clean_engine.exec_sh("heal-app", "cat /data/f") == (0, "precious\n")

        after = watch.scrape()
        code = watch.terminate()

    assert code == 0, watch.text
    assert watch.log[-1] == "stopped"
    assert removed["engine"]["name"]
    assert removed["target"] == "default"
    _check_metrics(before, after)
    locks = [n for n in clean_engine.container_names() if n.startswith("volplan-lock")]
    assert locks == [], watch.text


def _check_metrics(before: dict[str, float], after: dict[str, float]) -> None:
    """Five heals (the first sync's, then four); three followed an event."""
    key = '{target="default"}'
    assert before[f"volplan_watch_applies_total{key}"] == 1
    assert after[f"volplan_watch_applies_total{key}"] == 5
    assert after[f"volplan_watch_heal_seconds_count{key}"] >= 3  # the spec edit: no event
    assert after[f"volplan_watch_failures_total{key}"] == 0
    drift = 'volplan_watch_drift_resources{project="heal",target="default"}'
    assert (before[drift], after[drift]) == (0, 1)
    assert (
        after[f"volplan_watch_last_sync_timestamp_seconds{key}"]
        > before[f"volplan_watch_last_sync_timestamp_seconds{key}"]
    )


def test_without_self_heal_it_only_reports(clean_engine: Engine, tmp_path: Path) -> None:
    write_specs(tmp_path, _spec(), name="heal.yaml")
    with watching(clean_engine.host, "specs", "--interval", "60", cwd=tmp_path) as watch:
        status = watch.next_status(lambda s: True)
        watch.wait_for_log(r"drift: container\.heal-app: missing: container does not exist")
        code = watch.terminate()
    assert code == 0, watch.text
    assert status["in_sync"] is False
    assert status["drift"] == {"heal": 3}
    assert status["applies"] == 0
    assert clean_engine.container_names() == set()


def test_sigterm_during_a_heal_finishes_the_action_releases_the_lock_and_exits_0(
    clean_engine: Engine, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path, SLOW.format(stop=3, round=1))
    with watching(clean_engine.host, "specs", "--self-heal", cwd=tmp_path) as watch:
        watch.next_status(in_sync)
        with _kill_events(clean_engine) as kills:
            (specs / "shop.yaml").write_text(textwrap.dedent(SLOW.format(stop=3, round=2)))
            _next_kill_of(kills, "app")  # the recreate is stopping it: 3 s to go
        assert "volplan-lock-shop" in clean_engine.container_names()
        code = watch.terminate()
    assert code == 0, watch.text
    assert "stopped during a heal" in watch.text
    assert "volplan-lock-shop" not in clean_engine.container_names()
    app = clean_engine.inspect_container("app")
    assert "ROUND=2" in app["Config"]["Env"]
    assert app["State"]["Running"]


@contextmanager
def _kill_events(engine: Engine) -> Iterator[Iterator[dict[str, Any]]]:
    now = int(time.time())
    events = engine.client.events(
        decode=True, filters={"event": "kill"}, since=now - 1, until=now + 60
    )
    try:
        yield events
    finally:
        events.close()


def _next_kill_of(events: Iterator[dict[str, Any]], name: str) -> None:
    for event in events:
        if event.get("Actor", {}).get("Attributes", {}).get("name") == name:
            return
    raise AssertionError(f"{name} was never stopped")


def _terminate(pid: int, timeout: float = 30) -> None:
    """SIGTERM a process this test did not fork, and return once it is gone."""
    handle = os.pidfd_open(pid)
    try:
        os.kill(pid, signal.SIGTERM)
        assert select.select([handle], [], [], timeout)[0], f"pid {pid} outlived SIGTERM"
    finally:
        os.close(handle)


@pytest.fixture
def own_engine() -> Iterator[tuple[Path, Engine]]:
    """A private engine of this test's own, to restart: others use the session's."""
    directory = Path(tempfile.mkdtemp(prefix="volplan-watch-", dir="/tmp"))
    try:
        yield directory, start_engine(directory)
    finally:
        stop_engine(directory)


def test_an_engine_restart_is_survived_and_synced_after(
    own_engine: tuple[Path, Engine], tmp_path: Path
) -> None:
    directory, engine = own_engine
    write_specs(tmp_path, _spec(), name="heal.yaml")
    args = ("specs", "--self-heal", "--interval", "60", "--metrics-addr", "127.0.0.1:0")
    with watching(engine.host, *args, cwd=tmp_path) as watch:
        watch.next_status(in_sync)
        dockerd = int((directory / "dockerd.pid").read_text())
        engine.client.close()
        _terminate(dockerd)
        watch.wait_for_log(r"engine unreachable .* reconnecting in")
        status, body = watch.get("/healthz")
        assert status == 503
        assert "engine unreachable" in body
        engine = start_engine(directory)  # its containers come back exited
        after = watch.next_status(lambda s: in_sync(s) and s["applies"] >= 2)
        assert _running(engine, "heal-app")[1]
        assert _running(engine, "heal-reader")[1]
        assert watch.get("/healthz") == (200, "ok\n")
        code = watch.terminate()
        engine.client.close()
    assert code == 0, watch.text
    assert after["engine"]["name"]


def test_a_non_loopback_metrics_address_is_refused(run_cli_offline: RunCli, tmp_path: Path) -> None:
    write_specs(tmp_path, _spec(), name="heal.yaml")
    result = run_cli_offline("watch", "specs", "--metrics-addr", "0.0.0.0:9100", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: --metrics-addr '0.0.0.0:9100': metrics and /healthz are served on a loopback "
        "address only (127.0.0.0/8 or ::1): they need no credentials and describe what the "
        "engine holds; put an authenticating proxy in front to publish them"
    ]


def _first_of_each(firsts: dict[str, Status], targets: int, status: Status) -> bool:
    """Keeps each target's first in-sync line; True once ``targets`` targets have one."""
    if in_sync(status):
        firsts.setdefault(status["target"], status)
    return len(firsts) == targets


FLEET = """\
version: 1
project: PROJECT
TARGETS
containers:
  PROJECT-app:
    image: busybox:latest
    command: LOOP
    network_mode: none
    stop_timeout: 1
"""


def test_a_targets_file_watches_every_engine_each_healing_its_own(
    clean_engine: Engine, edge_engine: Engine, tmp_path: Path
) -> None:
    projects = ("wfleet-all", "wfleet-edge")
    remove_projects(edge_engine, *projects)
    for project, where in zip(projects, ("", "targets: {labels: {role: edge}}"), strict=True):
        text = FLEET.replace("PROJECT", project).replace("TARGETS", where).replace("LOOP", LOOP)
        write_specs(tmp_path, text, name=f"{project}.yaml")
    (tmp_path / "targets.yaml").write_text(
        f"version: 1\ntargets:\n  here:\n    host: {clean_engine.host}\n"
        f"  edge:\n    host: {edge_engine.host}\n"
    )
    args = ("specs", "--targets", "targets.yaml", "--self-heal", "--interval", "60")
    try:
        with watching("unix:///nonexistent/no-default.sock", *args, cwd=tmp_path) as watch:
            synced: dict[str, Status] = {}  # each target's first in-sync line
            watch.next_status(partial(_first_of_each, synced, 2))
            here, edge = synced["here"], synced["edge"]
            edge_engine.client.remove_container("wfleet-edge-app", force=True)
            healed = watch.next_status(lambda s: s["target"] == "edge" and s["applies"] == 2)
            code = watch.terminate()
        running = _running(edge_engine, "wfleet-edge-app")[1]
    finally:
        remove_projects(edge_engine, *projects)
    assert code == 0, watch.text
    assert here["drift"] == {"wfleet-all": 0}
    assert edge["drift"] == {"wfleet-all": 0, "wfleet-edge": 0}
    assert edge["engine"]["labels"] == {"role": "edge", "zone": "a"}
    assert healed["in_sync"] is True
    assert running
    assert clean_engine.container_names() == {"wfleet-all-app"}
    assert "[edge] drift: container.wfleet-edge-app: missing" in watch.text
