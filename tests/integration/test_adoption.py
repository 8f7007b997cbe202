"""Adoption: what volplan did not create comes under volplan with its data.

A container and a volume made without volplan (here as Compose makes them: its labels, a
named volume, an anonymous one and the image's ``VOLUME``) are declared in a spec. The
plan says ``adopt`` for both; apply recreates the container so it gains volplan's labels,
hands it the same volumes, and uses the volume as it is. Data written before is read after,
also when the adoption is killed half-way.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.images import TAGS

from reconciler import labels
from reconciler.engine.base import DEFAULT_HELPER_IMAGE, EMPTY_ARCHIVE, HELPER_COMMAND

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("test_images")]

PGDATA = "/var/lib/postgresql/data"
COMPOSE = {"com.docker.compose.project": "shop", "com.docker.compose.service": "db"}
SPEC = f"""\
version: 1
project: shop
volumes:
  shop_data: {{}}
containers:
  shop-db:
    image: {TAGS["postgres-like"]}
    network_mode: none
    mounts: ["shop_data:/srv/data", "/cache"]
"""
WRITE = f"echo named > /srv/data/f && echo anon > /cache/f && echo image > {PGDATA}/f"
READ = f"cat /srv/data/f /cache/f {PGDATA}/f"


def _compose_made(engine: Engine) -> dict[str, str]:
    """The project as Compose leaves it running; returns the volume at each path."""
    client = engine.client
    client.create_volume("shop_data", labels={**COMPOSE, "com.docker.compose.volume": "data"})
    made = client.create_container(
        TAGS["postgres-like"],
        name="shop-db",
        labels=COMPOSE,
        volumes=["/cache"],
        host_config=client.create_host_config(network_mode="none", binds=["shop_data:/srv/data"]),
    )
    client.start(made["Id"])
    assert engine.exec_sh("shop-db", WRITE) == (0, "")
    return _volumes(engine)


def _volumes(engine: Engine) -> dict[str, str]:
    mounts = engine.inspect_container("shop-db")["Mounts"]
    return {m["Destination"]: m["Name"] for m in mounts}


def _spec(tmp_path: Path) -> str:
    """The spec folder, as a path relative to ``tmp_path``, the runs' working folder."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "shop.yaml").write_text(SPEC)
    return "specs"


def test_a_compose_made_container_and_volume_are_adopted_with_their_data(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    before = _compose_made(clean_engine)
    old_id = clean_engine.inspect_container("shop-db")["Id"]
    folder = _spec(tmp_path)

    plan = run_cli("plan", folder, cwd=tmp_path)
    document = json.loads(run_cli("plan", "--format", "json", folder, cwd=tmp_path).stdout)
    applied = run_cli("apply", "--yes", folder, cwd=tmp_path)

    assert plan.exit_code == 0, plan.stderr
    lines = plan.stdout.splitlines()
    assert lines[2:4] == [
        "= adopt    volume.shop_data",
        "      exists, made without volplan (Compose project 'shop' made it), and matches the "
        "spec: used as is, with its data (a volume cannot be relabelled)",
    ]
    assert lines[4] == "~ adopt    container.shop-db  [restarts-container]  (specs/shop.yaml:6)"
    assert f"      shop-db:/cache (anonymous volume): keeps volume {before['/cache'][:12]}" in lines
    assert f"      shop-db:{PGDATA} (image volume): keeps volume {before[PGDATA][:12]}" in lines
    assert "Plan: 1 to adopt; 1 volume adopted as is; 0 unchanged." in lines
    assert document["summary"]["adopt"] == 1
    assert [c["key"] for c in document["resource_changes"]] == ["container.shop-db:adopt"]
    assert [a["address"] for a in document["adopted"]] == ["volume.shop_data"]
    assert applied.exit_code == 0, applied.stderr
    assert "~ adopt container.shop-db: done" in applied.stderr
    adopted = clean_engine.inspect_container("shop-db")
    assert adopted["Id"] != old_id
    assert adopted["Config"]["Labels"][labels.PROJECT] == "shop"
    assert _volumes(clean_engine) == before
    assert clean_engine.exec_sh("shop-db", READ) == (0, "named\nanon\nimage\n")
    assert clean_engine.inspect_volume("shop_data")["Labels"] == {
        **COMPOSE,
        "com.docker.compose.volume": "data",
    }
    _assert_settled(run_cli, tmp_path, folder)


def _assert_settled(run_cli: RunCli, tmp_path: Path, folder: str) -> None:
    """Nothing left to do; the adopted volume is listed, and drift and status agree."""
    again = run_cli("plan", "--detailed-exitcode", folder, cwd=tmp_path)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[2] == "= adopt    volume.shop_data"
    assert (
        "No changes. The engine matches the specs (2 resources, 1 volume adopted as is)."
        in again.stdout
    )
    drift = run_cli("drift", "--format", "json", folder, cwd=tmp_path)
    assert drift.exit_code == 0, drift.stdout + drift.stderr
    entries = {e["address"]: e["status"] for e in json.loads(drift.stdout)["resources"]}
    assert entries == {"container.shop-db": "in-sync", "volume.shop_data": "in-sync"}
    status = run_cli("status", folder, cwd=tmp_path)
    assert "[unlabelled, adopted by project shop]" in status.stdout


ADOPT_CALLS = (3, 4)
"""Kill points of the adoption: the lock's create, the stop, then right after the rename (the
old container, unlabelled, set aside with no replacement) and after the new one is made.
The lock's helper image is imported beforehand, or its import would be call 1."""


def _with_helper_image(engine: Engine) -> None:
    if not engine.client.images(name=DEFAULT_HELPER_IMAGE):
        repository, _, tag = DEFAULT_HELPER_IMAGE.partition(":")
        engine.client.import_image_from_data(
            EMPTY_ARCHIVE, repository=repository, tag=tag, changes=[f'CMD ["{HELPER_COMMAND}"]']
        )


@pytest.mark.parametrize("kill_after", ADOPT_CALLS)
def test_an_adoption_killed_midway_converges_with_the_data(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path, kill_after: int
) -> None:
    before = _compose_made(clean_engine)
    folder = _spec(tmp_path)
    _with_helper_image(clean_engine)

    killed = run_cli(
        "apply",
        "--yes",
        "--parallelism",
        "1",
        folder,
        cwd=tmp_path,
        env={"VOLPLAN_TEST_KILL_AFTER": str(kill_after), "VOLPLAN_LOCK_LEASE": "3600"},
    )
    assert killed.exit_code == -signal.SIGKILL, killed.stdout + killed.stderr
    assert run_cli("unlock", "shop", cwd=tmp_path).exit_code == 0
    assert "shop-db_volplan-old" in clean_engine.container_names()
    plan = run_cli("plan", folder, cwd=tmp_path)
    applied = run_cli("apply", "--yes", folder, cwd=tmp_path)

    verb = "roll back" if kill_after == ADOPT_CALLS[0] else "finish"
    assert f"~ {verb:<8} container.shop-db" in plan.stdout, plan.stdout
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert _volumes(clean_engine) == before
    assert clean_engine.exec_sh("shop-db", READ) == (0, "named\nanon\nimage\n")
    assert clean_engine.container_names() == {"shop-db"}
    _assert_settled(run_cli, tmp_path, folder)
