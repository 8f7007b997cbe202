"""Images that declare volumes (examples/images) never lose the data written to them.

Each test runs the real CLI against the private engine, from images configured like
postgres, redis, mongo and nginx, and checks the engine's real state: the volume at each
image-declared path is the container's own, under its stable name, and it is handed over
with its data whatever forces the recreate.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.images import TAGS, build

from reconciler import labels

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("test_images")]

PGDATA = "/var/lib/postgresql/data"
MOVING = "volplan-test/postgres-like:moving"
"""A tag the tests rebuild, so the shared example tags never move."""
SPEC = """\
version: 1
project: imgs
volumes:
  nginx-logs: {}
containers:
  pg:
    image: IMAGE
    network_mode: none
    labels: {rev: "REV"}
COMMAND  cache:
    image: volplan-example/redis-like:7
    network_mode: none
  docs:
    image: volplan-example/mongo-like:7
    network_mode: none
  web:
    image: volplan-example/nginx-like:1
    network_mode: none
    labels: {rev: "REV"}
    mounts: ["nginx-logs:/var/log/nginx"]
"""


def write_spec(
    folder: Path, *, image: str = TAGS["postgres-like"], rev: str = "1", command: str = ""
) -> Path:
    """The spec above; a new ``rev`` changes the labels of pg and web, ``command`` pg's."""
    folder.mkdir(exist_ok=True)
    text = SPEC.replace("IMAGE", image).replace("REV", rev)
    text = text.replace("COMMAND", f"    command: {command}\n" if command else "")
    (folder / "imgs.yaml").write_text(text)
    return folder


def apply(run_cli: RunCli, folder: Path, *extra: str) -> str:
    result = run_cli("apply", "--yes", str(folder), *extra)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stderr


def assert_converged(run_cli: RunCli, folder: Path) -> None:
    result = run_cli("plan", "--detailed-exitcode", str(folder))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "No changes." in result.stdout


def volume_at(engine: Engine, container: str, target: str) -> str:
    mounts = {m["Destination"]: m for m in engine.inspect_container(container)["Mounts"]}
    assert mounts[target]["Type"] == "volume"
    name: str = mounts[target]["Name"]
    return name


def test_image_volumes_are_the_containers_own_and_never_drift(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    folder = write_spec(tmp_path / "specs")

    apply(run_cli, folder)

    assert_converged(run_cli, folder)
    drift = run_cli("drift", str(folder))  # image defaults (cmd, workdir, env…) are no drift
    assert drift.exit_code == 0, drift.stdout + drift.stderr
    for container, target in (
        ("pg", PGDATA),
        ("cache", "/data"),
        ("docs", "/data/db"),
        ("docs", "/data/configdb"),
    ):
        name = volume_at(clean_engine, container, target)
        assert name == labels.anonymous_volume_name("imgs", container, target)
        volume_labels = clean_engine.inspect_volume(name)["Labels"]
        assert volume_labels[labels.IMAGE_VOLUME] == "true"
        assert volume_labels[labels.ANONYMOUS_FOR] == f"{container}:{target}"
    # the nginx-like image declares none; its logs are in the volume the spec mounts
    assert volume_at(clean_engine, "web", "/var/log/nginx") == "nginx-logs"
    assert len(clean_engine.volume_names()) == 5
    assert clean_engine.exec_sh("cache", "pwd; cat appendonly.aof") == (0, "/data\nstarted\n")


def test_status_shows_image_volumes(clean_engine: Engine, run_cli: RunCli, tmp_path: Path) -> None:
    folder = write_spec(tmp_path / "specs")
    apply(run_cli, folder)

    result = run_cli("status", str(folder))

    assert result.exit_code == 0, result.stderr
    assert f"pg:{PGDATA} (rw, image volume)" in result.stdout
    assert "docs:/data/configdb (rw, image volume)" in result.stdout
    assert "web:/var/log/nginx (rw)\n" in result.stdout


def _change_command(folder: Path, engine: Engine) -> str:
    write_spec(folder, image=MOVING, command=f'["serve", "{PGDATA}/b.log"]')
    return f'command: (none) -> ["serve", "{PGDATA}/b.log"]'


def _change_labels(folder: Path, engine: Engine) -> str:
    write_spec(folder, image=MOVING, rev="2")
    return "labels.rev: 1 -> 2"


def _change_image(folder: Path, engine: Engine) -> str:
    old = engine.image_id(MOVING)
    new = build(engine, "postgres-like", MOVING, labels={"release": "2"})
    return f"image: {old} -> {new} ({MOVING})"


@pytest.mark.parametrize("change", [_change_command, _change_labels, _change_image])
def test_the_data_survives_a_recreate_whatever_forces_it(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path, change: object
) -> None:
    build(clean_engine, "postgres-like", MOVING)
    folder = write_spec(tmp_path / "specs", image=MOVING)
    apply(run_cli, folder)
    assert clean_engine.exec_sh("pg", f"echo precious > {PGDATA}/table") == (0, "")
    cluster = clean_engine.exec_sh("pg", f"cat {PGDATA}/PG_VERSION")
    volume = volume_at(clean_engine, "pg", PGDATA)
    volumes = clean_engine.volume_names()
    assert callable(change)
    shown = change(folder, clean_engine)

    plan = run_cli("plan", str(folder))
    applied = apply(run_cli, folder)

    assert shown in plan.stdout, plan.stdout
    assert f"pg:{PGDATA} (image volume): keeps volume {volume[:12]}" in plan.stdout
    assert "~ recreate container.pg: done" in applied
    assert volume_at(clean_engine, "pg", PGDATA) == volume
    assert clean_engine.exec_sh("pg", f"cat {PGDATA}/table") == (0, "precious\n")
    assert (
        clean_engine.exec_sh("pg", f"cat {PGDATA}/PG_VERSION") == cluster
    )  # not initialised again
    assert clean_engine.volume_names() == volumes  # none added, none left dangling
    assert_converged(run_cli, folder)


RECREATE_CALLS = 7
"""The lock's create, then stop, rename, create, start and remove, then the lock's remove."""


@pytest.mark.parametrize("kill_after", range(1, RECREATE_CALLS))
def test_a_recreate_killed_midway_converges_with_the_data(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path, kill_after: int
) -> None:
    folder = write_spec(tmp_path / "specs")
    apply(run_cli, folder)
    assert clean_engine.exec_sh("pg", f"echo precious > {PGDATA}/table") == (0, "")
    volume = volume_at(clean_engine, "pg", PGDATA)
    volumes = clean_engine.volume_names()
    write_spec(folder, rev="2")

    killed = run_cli(
        "apply",
        "--yes",
        "--parallelism",
        "1",
        str(folder),
        env={"VOLPLAN_TEST_KILL_AFTER": str(kill_after)},
    )
    assert killed.exit_code == -signal.SIGKILL, killed.stdout + killed.stderr
    assert run_cli("unlock", "imgs").exit_code == 0
    apply(run_cli, folder)

    assert_converged(run_cli, folder)
    assert volume_at(clean_engine, "pg", PGDATA) == volume
    assert clean_engine.exec_sh("pg", f"cat {PGDATA}/table") == (0, "precious\n")
    assert clean_engine.volume_names() == volumes
    assert clean_engine.container_names() == {"pg", "cache", "docs", "web"}


def test_a_container_made_by_hand_is_taken_over_with_its_data(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    client = clean_engine.client
    made = client.create_container(
        TAGS["postgres-like"],
        name="pg",
        host_config=client.create_host_config(network_mode="none"),
    )
    client.start(made["Id"])
    assert clean_engine.exec_sh("pg", f"echo by-hand > {PGDATA}/table") == (0, "")
    engine_made = volume_at(clean_engine, "pg", PGDATA)
    folder = write_spec(tmp_path / "specs")

    result = apply(run_cli, folder)

    assert "~ adopt container.pg: done" in result
    assert volume_at(clean_engine, "pg", PGDATA) == engine_made
    assert clean_engine.exec_sh("pg", f"cat {PGDATA}/table") == (0, "by-hand\n")
    assert_converged(run_cli, folder)
    write_spec(folder, rev="2")
    apply(run_cli, folder)
    assert volume_at(clean_engine, "pg", PGDATA) == engine_made  # and on every recreate after
    assert clean_engine.exec_sh("pg", f"cat {PGDATA}/table") == (0, "by-hand\n")


DATA_CONTAINER = """\
version: 1
project: imgs
containers:
  store:
    image: volplan-example/mongo-like:7
    network_mode: none
    state: created
    environment: {REV: "1"}
  app:
    image: busybox:latest
    command: sleep 3600
    network_mode: none
    stop_timeout: 0
    volumes_from: [store]
    environment: {REV: "1"}
"""


def test_a_data_volume_container_passes_its_image_volumes_on(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "app.yaml").write_text(DATA_CONTAINER)
    apply(run_cli, tmp_path)
    assert clean_engine.exec_sh("app", "echo kept > /data/db/f && echo too > /data/configdb/g") == (
        0,
        "",
    )
    volumes = clean_engine.volume_names()
    assert volume_at(clean_engine, "app", "/data/db") == labels.anonymous_volume_name(
        "imgs", "store", "/data/db"
    )
    (tmp_path / "app.yaml").write_text(DATA_CONTAINER.replace('REV: "1"', 'REV: "2"'))

    result = apply(run_cli, tmp_path)

    assert "~ recreate container.store: done" in result
    assert "~ recreate container.app: done" in result
    assert clean_engine.exec_sh("app", "cat /data/db/f /data/configdb/g") == (0, "kept\ntoo\n")
    assert clean_engine.volume_names() == volumes
    assert_converged(run_cli, tmp_path)


def test_stopping_honours_the_images_stop_signal(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    folder = write_spec(tmp_path / "specs")
    apply(run_cli, folder)
    write_spec(folder, rev="2")

    result = apply(run_cli, folder)

    assert "~ recreate container.web: done" in result
    logs = clean_engine.exec_sh("web", "cat /var/log/nginx/access.log")
    assert logs == (0, "started\nstopped by SIGQUIT\nstarted\n")
    server = clean_engine.exec_sh("pg", f"cat {PGDATA}/server.log")
    assert server == (0, "started\nstopped by SIGINT\nstarted\n")
