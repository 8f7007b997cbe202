"""``volplan fleet-status`` where no swarm is: one clear error, exit 1."""

from __future__ import annotations

from support.cli import RunCli


def test_fleet_status_on_an_engine_that_is_no_swarm_manager_is_an_error(run_cli: RunCli) -> None:
    result = run_cli("fleet-status", "volplan-agent")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "reading the logs of service volplan-agent" in result.stderr
    assert "not a swarm manager" in result.stderr
    assert "Traceback" not in result.stderr
