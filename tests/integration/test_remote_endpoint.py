"""An engine reached over TCP: every call, reads included, goes through docker-py.

On a local socket volplan sends every request through the standard library
(engine/unix_transport.py); any other endpoint sends the same requests through docker-py's
requests session. The private engine is put
behind a loopback TCP port (the counting proxy's TCP mode) so that path runs against a
real engine too.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine

from benchmarks.request_counter import CountingProxy
from reconciler.engine.adapter import DockerEngine, SdkTransport
from reconciler.engine.unix_transport import UnixSocketTransport
from reconciler.errors import EngineNotFound

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

    assert isinstance(engine.transport, SdkTransport)
    assert not info.is_local
    assert info.daemon_id == clean_engine.client.info()["ID"]
    assert [(v.name, v.labels) for v in volumes] == [("data", {"team": "db"})]
    assert engine.image_present("busybox:latest")
    assert not engine.image_present("volplan-absent:1")
    engine.close()


@pytest.mark.parametrize("over_tcp", [False, True])
def test_an_archive_streams_through_either_read_path(
    remote: str, clean_engine: Engine, over_tcp: bool
) -> None:
    """get_archive is a read: http.client on the socket, docker-py's session over TCP; both
    stream the same tar, stop when closed, and turn a missing path into EngineNotFound."""
    holder = clean_engine.client.create_container("busybox:latest", ["true"], name="holder")
    payload = bytes(range(256)) * 8192  # 2 MiB: more than one chunk
    clean_engine.client.put_archive(holder["Id"], "/tmp", _tar({"big": payload, "small": b"x"}))
    engine = DockerEngine.connect(remote if over_tcp else clean_engine.host)
    assert isinstance(engine.transport, SdkTransport if over_tcp else UnixSocketTransport)

    whole = b"".join(engine.get_archive("holder", "/tmp"))
    with tarfile.open(fileobj=io.BytesIO(whole)) as tar:
        big = tar.extractfile("tmp/big")
        assert big is not None
        assert big.read() == payload
    stream = engine.get_archive("holder", "/tmp")
    assert len(next(stream)) < len(whole)
    stream.close()
    with pytest.raises(EngineNotFound, match=r"^reading /absent from container holder: "):
        next(engine.get_archive("holder", "/absent"))
    engine.close()


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
