"""An engine reached over TCP: every call, reads included, goes through docker-py.

On a local socket volplan reads through the standard library (engine/unix_reads.py); any
other endpoint takes the docker SDK's path for everything. The private engine is put
behind a loopback TCP port (the counting proxy's TCP mode) so that path runs against a
real engine too.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine

from benchmarks.request_counter import CountingProxy
from reconciler.engine.adapter import DockerEngine, SdkReads

pytestmark = pytest.mark.engine

SPECS = Path(__file__).parent / "data" / "errors"


@pytest.fixture
def remote(clean_engine: Engine) -> Iterator[str]:
    with CountingProxy(clean_engine.host, over_tcp=True) as proxy:
        yield proxy.host


def test_plan_apply_and_a_converged_plan_over_tcp(
    remote: str, clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    shutil.copytree(SPECS, tmp_path, dirs_exist_ok=True)

    applied = run_cli("apply", "--yes", "-H", remote, str(tmp_path))
    again = run_cli("plan", "--detailed-exitcode", "-H", remote, str(tmp_path))

    assert applied.exit_code == 0, applied.stderr
    assert again.exit_code == 0, again.stdout + again.stderr
    assert f"Plan for {remote} " in again.stdout
    assert clean_engine.inspect_container("app")["State"]["Running"]


def test_reads_over_tcp_use_the_sdk_and_say_the_engine_is_remote(
    remote: str, clean_engine: Engine
) -> None:
    clean_engine.client.create_volume("data", labels={"team": "db"})
    engine = DockerEngine.connect(remote)

    info = engine.info()
    volumes = engine.list_volumes()

    assert isinstance(engine.reads, SdkReads)
    assert not info.is_local
    assert info.daemon_id == clean_engine.client.info()["ID"]
    assert [(v.name, v.labels) for v in volumes] == [("data", {"team": "db"})]
    assert engine.image_present("busybox:latest")
    assert not engine.image_present("volplan-absent:1")
    engine.close()
