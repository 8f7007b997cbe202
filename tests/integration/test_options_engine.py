"""Issue 11 §3/§4: every container option reaches the real engine (``docker inspect``),
variables and env files are interpolated as Compose does, and a missing network is refused
before anything changes."""

from __future__ import annotations

import time
from pathlib import Path

from support.cli import RunCli
from support.engine import Engine

SPEC = """\
version: 1
project: options
containers:
  app:
    image: busybox:latest
    network_mode: none
    entrypoint: ["/bin/sh", "-c"]
    command: ["echo up > /scratch/state; sleep 600"]
    user: "1000:1000"
    working_dir: /home
    hostname: app-${SITE:-one}
    init: true
    read_only: true
    shm_size: 32m
    tmpfs: ["/scratch:size=1m,mode=1777", /run/app]
    cap_drop: [NET_RAW, MKNOD]
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 50
    stop_timeout: ${STOP:-1}
    healthcheck:
      test: ["CMD-SHELL", "test -f /scratch/state"]
      interval: 1s
      timeout: 1m30s
      retries: 3
      start_period: 500ms
    env_file: app.env
    environment:
      RELEASE: "${RELEASE:?set RELEASE in .env}"
      PRICE: "$$5"
"""


def wait_for_health(engine: Engine, name: str, seconds: float = 30) -> str:
    """The container's health once it is no longer "starting" (or when time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        status = str(engine.inspect_container(name)["State"]["Health"]["Status"])
        if status != "starting" or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def write_specs(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "app.yaml").write_text(SPEC)
    (folder / "app.env").write_text("# read by the container only\nDB_PASSWORD='s3cr3t value'\n")
    (folder / ".env").write_text("RELEASE=2.1\n")
    return folder


def test_every_option_is_visible_in_docker_inspect_and_the_next_plan_is_empty(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path)

    applied = run_cli("apply", "--yes", str(specs), env={"SITE": "two"})

    assert applied.exit_code == 0, applied.stderr
    assert "s3cr3t" not in applied.stdout + applied.stderr
    inspected = clean_engine.inspect_container("app")
    config, host = inspected["Config"], inspected["HostConfig"]
    assert config["Entrypoint"] == ["/bin/sh", "-c"]
    assert config["User"] == "1000:1000"
    assert config["WorkingDir"] == "/home"
    assert config["Hostname"] == "app-two"
    assert config["StopTimeout"] == 1
    assert config["Healthcheck"] == {
        "Test": ["CMD-SHELL", "test -f /scratch/state"],
        "Interval": 1_000_000_000,
        "Timeout": 90_000_000_000,
        "StartPeriod": 500_000_000,
        "Retries": 3,
    }
    assert {"RELEASE=2.1", "PRICE=$5", "DB_PASSWORD=s3cr3t value"} <= set(config["Env"])
    assert host["Init"] is True
    assert host["ReadonlyRootfs"] is True
    assert host["ShmSize"] == 32 * 1024 * 1024
    assert host["Tmpfs"] == {"/scratch": "size=1m,mode=1777", "/run/app": ""}
    assert sorted(host["CapDrop"]) == ["MKNOD", "NET_RAW"]
    assert sorted(host["Ulimits"], key=lambda u: u["Name"]) == [
        {"Name": "nofile", "Soft": 1024, "Hard": 2048},
        {"Name": "nproc", "Soft": 512, "Hard": 512},
    ]
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 50
    assert wait_for_health(clean_engine, "app") == "healthy"
    assert clean_engine.exec_sh("app", "cat /scratch/state; id -u")[1].split() == ["up", "1000"]

    again = run_cli("plan", "--detailed-exitcode", str(specs), env={"SITE": "two"})
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_a_changed_env_file_value_recreates_without_showing_it(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path)
    assert run_cli("apply", "--yes", str(specs)).exit_code == 0
    (specs / "app.env").write_text("DB_PASSWORD=an0ther\nDB_USER=app\n")

    planned = run_cli("plan", "--detailed-exitcode", str(specs))
    as_json = run_cli("plan", "--format", "json", str(specs))

    assert planned.exit_code == 2, planned.stderr
    assert "recreate" in planned.stdout
    assert "env_file_digest" in planned.stdout
    assert "environment.DB_USER: (none) -> (from env_file app.env)" in planned.stdout
    for shown in (planned.stdout, as_json.stdout):
        assert "an0ther" not in shown
        assert "s3cr3t" not in shown


def test_a_required_variable_that_is_unset_is_an_error_at_its_position(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path)
    (specs / ".env").unlink()

    result = run_cli("apply", "--yes", str(specs))

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    line = next(n for n, text in enumerate(SPEC.splitlines(), 1) if "RELEASE:" in text)
    assert (
        f"app.yaml:{line}:16: error: containers.app.environment.RELEASE: required variable "
        "RELEASE is missing a value: set RELEASE in .env [missing-variable]"
    ) in result.stderr
    assert clean_engine.container_names() == set()


def test_a_missing_network_is_a_plan_error_that_names_it(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "net.yaml").write_text(
        "version: 1\nproject: nets\ncontainers:\n  web:\n    image: busybox:latest\n"
        "    command: [sleep, '600']\n    networks: [none, backend-net]\n"
    )

    result = run_cli("apply", "--yes", str(folder))

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "attaches to network 'backend-net', which does not exist" in result.stderr
    assert "'none'" not in result.stderr
    assert clean_engine.container_names() == set()


def test_show_interpolated_prints_the_values_used(run_cli_offline: RunCli, tmp_path: Path) -> None:
    specs = write_specs(tmp_path)

    result = run_cli_offline(
        "validate", "--show-interpolated", str(specs), env={"SITE": "three"}, cwd=tmp_path
    )

    assert result.exit_code == 0, result.stderr
    assert "# specs/app.yaml\n---\nversion: 1\n" in result.stdout
    assert "hostname: app-three\n" in result.stdout
    assert "RELEASE: '2.1'\n" in result.stdout
    assert "PRICE: $5\n" in result.stdout
    assert "stop_timeout: 1\n" in result.stdout
    assert "s3cr3t" not in result.stdout
    assert "valid (0 volumes, 1 container," in result.stderr
