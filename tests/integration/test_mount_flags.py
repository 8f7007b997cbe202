"""Docker's SELinux mount flags on the real 20.10 engine, where SELinux is off."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine

pytestmark = pytest.mark.engine

SPEC = """\
version: 1
project: flags
volumes:
  shared: {}
containers:
  app:
    image: busybox:latest
    command: sleep 3600
    network_mode: none
    stop_timeout: 0
    mounts: ["./data:/d:z", "shared:/e:Z,ro", {source: ./data, target: /f, selinux: Z}]
"""


def test_z_and_Z_reach_the_engine_and_converge(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "f").write_text("host\n")
    (tmp_path / "app.yaml").write_text(SPEC)

    applied = run_cli("apply", "--yes", str(tmp_path))

    assert applied.exit_code == 0, applied.stdout + applied.stderr
    mounts = {m["Destination"]: m for m in clean_engine.inspect_container("app")["Mounts"]}
    assert {t: (m["Mode"], m["RW"]) for t, m in mounts.items()} == {
        "/d": ("rw,z", True),
        "/e": ("ro,Z", False),
        "/f": ("rw,Z", True),
    }
    assert mounts["/e"]["Name"] == "shared"
    assert clean_engine.exec_sh("app", "cat /d/f /f/f") == (0, "host\nhost\n")
    plan = run_cli("plan", "--detailed-exitcode", str(tmp_path))
    assert plan.exit_code == 0, plan.stdout + plan.stderr
