"""Helpers for integration tests: copies of the examples to edit, and the engines besides
each worker's own (a labelled one shared by the workers, a TLS one per worker)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.engine import Engine, start_engine, stop_engine
from support.examples import EXAMPLES, REPO
from support.images import build_all
from support.ports import free_port
from support.shared_engine import shared_engine
from support.tls import Certificates, make_certificates


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy an example folder (or specs/) to a temporary place where a test may edit it."""

    def copy(name: str) -> Path:
        source = REPO / name if name == "specs" else EXAMPLES / name
        target = tmp_path / name
        shutil.copytree(source, target)
        return target

    return copy


@pytest.fixture(scope="session")
def test_images(engine: Engine) -> None:
    """The images configured like real ones (examples/images), built once per engine."""
    build_all(engine)


@pytest.fixture(scope="session")
def edge_engine(engine: Engine) -> Iterator[Engine]:
    """A second private engine, started with ``dockerd --label role=edge --label zone=a``
    and shared by the workers: tests on it use projects and names of their own."""
    with shared_engine("edge", ["role=edge", "zone=a"]) as edge:
        yield edge


@pytest.fixture(scope="session")
def tls_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA, and the server and client certificates it signed (support/tls.py)."""
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def tls_engine(tls_certificates: Certificates) -> Iterator[tuple[Engine, str]]:
    """A private engine served with ``--tlsverify`` on ``tcp://127.0.0.1:PORT`` (given
    beside it) with ``tls_certificates``, started once per worker for the TLS and the
    fleet tests; its unix socket is the tests' own way in, to look at what volplan did."""
    directory = Path(tempfile.mkdtemp(prefix="volplan-tls-", dir="/tmp"))
    (directory / ".volplan-engine").touch()
    (directory / "daemon.json").write_text(
        json.dumps(
            {
                "tlsverify": True,
                "tlscacert": str(tls_certificates.ca),
                "tlscert": str(tls_certificates.server_cert),
                "tlskey": str(tls_certificates.server_key),
            }
        )
    )
    address = f"127.0.0.1:{free_port()}"
    try:
        engine = start_engine(directory, {"VOLPLAN_ENGINE_TCP": address})
        yield engine, f"tcp://{address}"
        engine.client.close()
    finally:
        stop_engine(directory)
