"""depends_on on the real engine: a dependent starts only once its dependency's real
healthcheck passes, and the plan says what it waits for."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from support.cli import RunCli
from support.engine import Engine

SPEC = """\
version: 1
project: waits
containers:
  db:
    image: busybox:latest
    network_mode: none
    command: [sh, -c, "sleep 3; touch /tmp/ready; exec sleep 600"]
    stop_timeout: 1
    healthcheck:
      test: [CMD, test, -f, /tmp/ready]
      interval: 500ms
      retries: 30
  app:
    image: busybox:latest
    network_mode: none
    command: [sleep, "600"]
    stop_timeout: 1
    depends_on:
      db: {condition: service_healthy}
"""


def instant(text: str) -> datetime:
    """Docker's RFC 3339 times carry nanoseconds; Python reads microseconds."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}+00:00")


def test_service_healthy_waits_for_the_real_healthcheck(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "waits.yaml").write_text(SPEC)

    planned = run_cli("plan", str(folder))
    applied = run_cli("apply", "--yes", str(folder))

    assert "once db is healthy" in planned.stdout, planned.stdout
    assert applied.exit_code == 0, applied.stderr
    db = clean_engine.inspect_container("db")["State"]
    app = clean_engine.inspect_container("app")["State"]
    first_pass = min(
        instant(entry["End"]) for entry in db["Health"]["Log"] if entry["ExitCode"] == 0
    )
    assert db["Health"]["Status"] == "healthy"
    assert instant(app["StartedAt"]) >= first_pass
    again = run_cli("plan", "--detailed-exitcode", str(folder))
    assert again.exit_code == 0, again.stdout


def test_a_dependency_that_turns_unhealthy_stops_the_apply(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "waits.yaml").write_text(
        SPEC.replace("test: [CMD, test, -f, /tmp/ready]", "test: [CMD, 'false']").replace(
            "retries: 30", "retries: 2"
        )
    )

    applied = run_cli("apply", "--yes", str(folder))

    assert applied.exit_code == 1
    assert "but db is unhealthy" in applied.stderr
    assert (
        "app" not in clean_engine.container_names()
        or not clean_engine.inspect_container("app")["State"]["Running"]
    )
