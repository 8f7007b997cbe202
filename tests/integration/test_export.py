"""``volplan export`` round trip: a host built by hand with the docker CLI is exported,
applied and planned empty, and its data is read back inside the containers.

The topology is the docker documentation's: named volumes, a bind (read-only), a
data-volume container made by ``docker create -v /dbdata``, consumers through
``--volumes-from`` (one read-only), and a container of an image that declares a volume and
sets an entrypoint, a command, an environment and a stop signal, none of which the spec
repeats.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML
from support.cli import RunCli, engine_environment
from support.engine import Engine
from support.images import TAGS

from reconciler import labels

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("test_images")]

DOCKER = "/usr/local/bin/docker"
PGDATA = "/var/lib/postgresql/data"
SLEEPER = ["--network", "none", "--stop-timeout", "1", "busybox", "sleep", "3600"]


def _docker(engine: Engine, *args: str) -> str:
    result = subprocess.run(
        [DOCKER, *args],
        env=engine_environment(engine.host),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _build_host(engine: Engine, host_dir: Path) -> None:
    """The topology, by hand, and data written into every kind of volume."""
    (host_dir / "conf").mkdir(parents=True)
    (host_dir / "conf" / "app.conf").write_text("level=info\n")
    _docker(engine, "volume", "create", "--label", "team=web", "appdata")
    _docker(engine, "volume", "create", "logs")
    _docker(engine, "create", "-v", "/dbdata", "--name", "dbstore", "--network", "none",
            "busybox", "/bin/true")  # fmt: skip
    _docker(engine, "run", "-d", "--name", "app", "-v", "appdata:/srv/data",
            "-v", f"{host_dir / 'conf'}:/etc/app:ro", "-v", "logs:/var/log/app",
            "--volumes-from", "dbstore", "-e", "MODE=prod", "--label", "tier=front",
            "--restart", "unless-stopped", *SLEEPER)  # fmt: skip
    _docker(engine, "run", "-d", "--name", "reader", "--volumes-from", "dbstore:ro",
            "-v", "logs:/logs:ro", *SLEEPER)  # fmt: skip
    _docker(engine, "run", "-d", "--name", "pg", "--network", "none", "--stop-timeout", "1",
            TAGS["postgres-like"])  # fmt: skip
    write = "echo app > /srv/data/f && echo db > /dbdata/f && echo log > /var/log/app/f"
    assert engine.exec_sh("app", write) == (0, "")
    assert engine.exec_sh("pg", f"echo precious > {PGDATA}/table") == (0, "")


def _anonymous(engine: Engine, container: str, target: str) -> str:
    mounts = {m["Destination"]: m for m in engine.inspect_container(container)["Mounts"]}
    name: str = mounts[target]["Name"]
    return name


EXPECTED = """\
version: 1
project: host
volumes:
  appdata:  # VOLUME_NOTE
    labels:
      team: web
  logs: {} # VOLUME_NOTE
containers:
  app:  # CONTAINER_NOTE
    image: busybox
    command:
      - sleep
      - '3600'
    mounts:
      - HOST/conf:/etc/app:ro
      - appdata:/srv/data
      - logs:/var/log/app
    volumes_from:
      - dbstore
    labels:
      tier: front
    environment:
      MODE: prod
    network_mode: none
    restart: unless-stopped
    stop_timeout: 1
  dbstore: # CONTAINER_NOTE
    image: busybox
    command:
      - /bin/true
    state: created
    mounts:
      - /dbdata  # anonymous volume DBDATA: apply keeps it, with its data
    network_mode: none
  pg: # CONTAINER_NOTE
    image: volplan-example/postgres-like:17
    network_mode: none
    stop_timeout: 1
  reader: # CONTAINER_NOTE
    image: busybox
    command:
      - sleep
      - '3600'
    mounts:
      - logs:/logs:ro
    volumes_from:
      - dbstore:ro
    network_mode: none
    stop_timeout: 1
"""
NOTES = {
    "VOLUME_NOTE": "made without volplan: apply adopts it as it is, with its data (volumes "
    "cannot be relabelled)",
    "CONTAINER_NOTE": "made without volplan: apply adopts it (recreates it with its volumes, "
    "so it gains volplan's labels)",
}


def _expected(host: Path, dbdata: str) -> str:
    text = EXPECTED.replace("HOST", str(host)).replace("DBDATA", dbdata[:12])
    for mark, note in NOTES.items():
        text = text.replace(mark, note)
    return text


def test_a_hand_made_host_is_exported_applied_and_planned_empty_with_its_data(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    _build_host(clean_engine, tmp_path / "host")
    dbdata, pgdata = (
        _anonymous(clean_engine, "dbstore", "/dbdata"),
        _anonymous(clean_engine, "pg", PGDATA),
    )
    volumes = clean_engine.volume_names()

    exported = run_cli("export", "--all", "-o", "specs", cwd=tmp_path)
    assert exported.exit_code == 0, exported.stderr
    assert exported.stderr.startswith("Exported 1 project (2 volumes, 4 containers) to specs;")
    assert sorted(os.listdir(tmp_path / "specs")) == ["host.yaml", "spec.schema.json"]
    text = (tmp_path / "specs" / "host.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=spec.schema.json"
    body = "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))
    assert body == _expected(tmp_path / "host", dbdata)
    schema = json.loads((tmp_path / "specs" / "spec.schema.json").read_text())
    jsonschema.validate(YAML(typ="safe").load(text), schema)

    plan = json.loads(run_cli("plan", "--format", "json", "specs", cwd=tmp_path).stdout)
    assert {c["key"] for c in plan["resource_changes"]} == {
        f"container.{name}:adopt" for name in ("app", "dbstore", "pg", "reader")
    }
    assert [a["address"] for a in plan["adopted"]] == ["volume.appdata", "volume.logs"]
    applied = run_cli("apply", "--yes", "specs", cwd=tmp_path)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    again = run_cli("plan", "--detailed-exitcode", "specs", cwd=tmp_path)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes. The engine matches the specs (6 resources, 2 volumes adopted as is)." in (
        again.stdout
    )

    assert clean_engine.volume_names() == volumes  # the same volumes, none made or lost
    assert _anonymous(clean_engine, "dbstore", "/dbdata") == dbdata
    assert _anonymous(clean_engine, "pg", PGDATA) == pgdata
    assert all(
        clean_engine.inspect_container(n)["Config"]["Labels"][labels.PROJECT] == "host"
        for n in ("app", "dbstore", "pg", "reader")
    )
    read = "cat /srv/data/f /dbdata/f /var/log/app/f /etc/app/app.conf"
    assert clean_engine.exec_sh("app", read) == (0, "app\ndb\nlog\nlevel=info\n")
    assert clean_engine.exec_sh("reader", "cat /dbdata/f /logs/f") == (0, "db\nlog\n")
    assert clean_engine.exec_sh("reader", "touch /dbdata/x")[0] != 0  # still read-only
    assert clean_engine.exec_sh("pg", f"cat {PGDATA}/table") == (0, "precious\n")


def test_export_of_a_project_not_on_the_engine_names_the_ones_there(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    _docker(clean_engine, "volume", "create", "--label", "com.docker.compose.project=shop",
            "shop_data")  # fmt: skip

    result = run_cli("export", "--project", "web", cwd=tmp_path)
    printed = run_cli("export", "--project", "shop", cwd=tmp_path)

    assert result.exit_code == 1
    assert result.stderr == (
        "error: no container or volume on the engine belongs to project 'web' "
        "(projects found: shop)\n"
    )
    assert printed.exit_code == 0, printed.stderr
    assert "  shop_data: {}  # made by Compose (project shop): apply adopts it" in printed.stdout
