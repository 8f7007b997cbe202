"""TLS against a real engine: a private dockerd on 127.0.0.1 with ``--tlsverify`` and
certificates made in the test, reached through a context's TLS material and through
``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``; a wrong CA or no client certificate is refused."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.docker_cli import DockerCli
from support.engine import Engine, start_engine, stop_engine
from support.ports import free_port
from support.tls import Certificates, make_certificates

pytestmark = pytest.mark.engine

SPEC = """\
version: 1
project: tls
volumes:
  data: {}
"""


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def tls_engine(certificates: Certificates) -> Iterator[tuple[Engine, str]]:
    """The TLS engine and its ``tcp://127.0.0.1:PORT``; its unix socket is the test's own
    way in, to look at what volplan did."""
    directory = Path(tempfile.mkdtemp(prefix="volplan-tls-", dir="/tmp"))
    (directory / ".volplan-engine").touch()
    (directory / "daemon.json").write_text(
        json.dumps(
            {
                "tlsverify": True,
                "tlscacert": str(certificates.ca),
                "tlscert": str(certificates.server_cert),
                "tlskey": str(certificates.server_key),
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


@pytest.fixture
def specs(tmp_path: Path, tls_engine: tuple[Engine, str]) -> Path:
    tls_engine[0].reset()
    path = tmp_path / "specs.yaml"
    path.write_text(SPEC)
    return path


def test_a_contexts_tls_material_reaches_the_engine_the_cli_reaches(
    tls_engine: tuple[Engine, str], certificates: Certificates, specs: Path, tmp_path: Path
) -> None:
    engine, address = tls_engine
    cli = DockerCli(tmp_path / "config")
    tls = f"ca={certificates.ca},cert={certificates.cert},key={certificates.key}"
    cli.ok("context", "create", "secure", "--docker", f"host={address},{tls}")

    applied = cli.volplan("apply", "--yes", "--context", "secure", str(specs))
    reached = cli.ok("--context", "secure", "info", "--format", "{{.ID}}").strip()

    assert applied.startswith(f"Plan for {address} "), applied
    assert reached == engine.client.info()["ID"]
    assert engine.volume_names() == {"data"}


def test_docker_tls_verify_and_cert_path_reach_the_engine(
    tls_engine: tuple[Engine, str], certificates: Certificates, specs: Path, tmp_path: Path
) -> None:
    engine, address = tls_engine
    cli = DockerCli(tmp_path / "config")
    env = {
        "DOCKER_HOST": address,
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(certificates.folder),
    }
    engine.client.create_volume("data", labels={"io.volplan.project": "tls"})

    planned = cli.volplan("plan", str(specs), env=env)
    reached = cli.ok("info", "--format", "{{.ID}}", env=env).strip()

    assert reached == engine.client.info()["ID"]
    assert "No changes. The engine matches the specs (1 resource)." in planned, planned


def test_a_wrong_ca_or_no_client_certificate_is_refused(
    tls_engine: tuple[Engine, str],
    certificates: Certificates,
    specs: Path,
    tmp_path: Path,
) -> None:
    engine, address = tls_engine
    other = make_certificates(tmp_path / "other")
    cli = DockerCli(tmp_path / "config")
    client = f"cert={certificates.cert},key={certificates.key}"
    cli.ok("context", "create", "wrong-ca", "--docker", f"host={address},ca={other.ca},{client}")
    cli.ok("context", "create", "no-cert", "--docker", f"host={address},ca={certificates.ca}")

    wrong_ca = cli.volplan("plan", "--context", "wrong-ca", str(specs))
    no_cert = cli.volplan("plan", "--context", "no-cert", str(specs))

    refused = f"exit 1: error: connecting to the Docker engine at {address}: TLS: "
    assert wrong_ca.startswith(
        f"{refused}the engine's certificate failed verification "
        "(unable to get local issuer certificate); check the CA"
    ), wrong_ca
    assert no_cert.startswith(f"{refused}the engine refused the handshake ("), no_cert
    assert wrong_ca.count("\n") == no_cert.count("\n") == 1, wrong_ca + no_cert
    assert cli.run("--context", "wrong-ca", "info").returncode == 1
    assert engine.volume_names() == set()
