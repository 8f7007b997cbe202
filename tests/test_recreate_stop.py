"""A recreate stops the old container the way its spec says: its stop signal, its timeout."""

from __future__ import annotations

from pathlib import Path

from docker.types import Mount
from support.cli import RunCli
from support.engine import Engine

SPEC = """
version: 1
project: stops
volumes:
  stops-log: {{}}
containers:
  graceful:
    image: busybox:latest
    network_mode: none
    stop_signal: SIGUSR1
    stop_timeout: 30
    environment: {{GENERATION: "{generation}"}}
    command:
      - sh
      - -c
      - 'trap "echo {generation} > /log/stopped; exit 0" USR1; while :; do sleep 1; done'
    mounts: ["stops-log:/log"]
"""


def test_a_recreate_stops_the_old_container_with_its_stop_signal(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    spec = tmp_path / "stops.yaml"
    spec.write_text(SPEC.format(generation=1))
    assert run_cli("apply", str(tmp_path), "--yes").exit_code == 0
    spec.write_text(SPEC.format(generation=2))
    result = run_cli("apply", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "recreate container.graceful: done" in result.stderr
    code, output = clean_engine.run_with_volumes(
        "cat /log/stopped", mounts=[Mount("/log", "stops-log", type="volume")]
    )
    assert (code, output.strip()) == (0, "1")  # generation 1 trapped SIGUSR1 and exited
    config = clean_engine.inspect_container("graceful")["Config"]
    assert (config["StopSignal"], config["StopTimeout"]) == ("SIGUSR1", 30)
