"""volplan status against the real engine: the whole topology in one view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.gitops import write_specs

pytestmark = pytest.mark.engine

SHOP = """\
    version: 1
    project: shop
    volumes:
      pgdata: {protect: true}
    containers:
      datastore:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: [/shared]
      db:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: ["pgdata:/var/lib/db", "./config:/etc/db:ro"]
        volumes_from: ["datastore:ro"]
    """


def test_status_shows_volumes_users_volumes_from_binds_and_dangling(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    specs = write_specs(tmp_path, SHOP)
    (specs / "config").mkdir()
    assert run_cli("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
    clean_engine.exec_sh("db", "head -c 5000 /dev/zero > /var/lib/db/blob")
    clean_engine.client.create_volume("orphan")
    shared = next(
        m["Name"]
        for m in clean_engine.inspect_container("datastore")["Mounts"]
        if m["Destination"] == "/shared"
    )

    text = run_cli("status", "specs", cwd=tmp_path)
    whole = run_cli("status", "--format", "json", cwd=tmp_path)

    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert "  pgdata  local  5.0 kB  [project shop, protected]" in lines
    assert "    db:/var/lib/db (rw)" in lines
    assert "    db:/shared (ro, via volumes_from datastore)" in lines
    assert f"  datastore (running): {shared[:12]}:/shared" in lines
    assert "    used by db (volumes_from, ro)" in lines
    assert f"  {specs / 'config'}" in lines
    assert "    db:/etc/db (ro)" in lines
    assert "Dangling volumes (0): none" in lines
    document = json.loads(whole.stdout)
    assert document["projects"] == []
    assert document["dangling_volumes"] == ["orphan"]
    volumes = {v["name"]: v for v in document["volumes"]}
    assert volumes["pgdata"]["mountpoint"].endswith("/volumes/pgdata/_data")
    assert volumes["pgdata"]["users"] == [
        {"container": "db", "target": "/var/lib/db", "read_only": False, "via_volumes_from": None}
    ]
