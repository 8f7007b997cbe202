"""TLS against a real engine: a private dockerd on 127.0.0.1 with ``--tlsverify`` and
certificates made in the test session (conftest's ``tls_engine``), reached through a
context's TLS material and through ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``; a wrong CA
or no client certificate is refused. test_fleet_remote.py reaches it from a targets file."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.docker_cli import DockerCli
from support.engine import Engine
from support.tls import Certificates, make_certificates

pytestmark = pytest.mark.engine

SPEC = """\
version: 1
project: tls
volumes:
  data: {}
"""


@pytest.fixture
def specs(tmp_path: Path, tls_engine: tuple[Engine, str]) -> Path:
    tls_engine[0].reset()
    path = tmp_path / "specs.yaml"
    path.write_text(SPEC)
    return path


def test_a_contexts_tls_material_reaches_the_engine_the_cli_reaches(
    tls_engine: tuple[Engine, str], tls_certificates: Certificates, specs: Path, tmp_path: Path
) -> None:
    engine, address = tls_engine
    cli = DockerCli(tmp_path / "config")
    tls = f"ca={tls_certificates.ca},cert={tls_certificates.cert},key={tls_certificates.key}"
    cli.ok("context", "create", "secure", "--docker", f"host={address},{tls}")

    applied = cli.volplan("apply", "--yes", "--context", "secure", str(specs))
    reached = cli.ok("--context", "secure", "info", "--format", "{{.ID}}").strip()

    assert applied.startswith(f"Plan for {address} "), applied
    assert reached == engine.client.info()["ID"]
    assert engine.volume_names() == {"data"}


def test_docker_tls_verify_and_cert_path_reach_the_engine(
    tls_engine: tuple[Engine, str], tls_certificates: Certificates, specs: Path, tmp_path: Path
) -> None:
    engine, address = tls_engine
    cli = DockerCli(tmp_path / "config")
    env = {
        "DOCKER_HOST": address,
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(tls_certificates.folder),
    }
    engine.client.create_volume("data", labels={"io.volplan.project": "tls"})

    planned = cli.volplan("plan", str(specs), env=env)
    reached = cli.ok("info", "--format", "{{.ID}}", env=env).strip()

    assert reached == engine.client.info()["ID"]
    assert "No changes. The engine matches the specs (1 resource)." in planned, planned


def test_a_wrong_ca_or_no_client_certificate_is_refused(
    tls_engine: tuple[Engine, str],
    tls_certificates: Certificates,
    specs: Path,
    tmp_path: Path,
) -> None:
    engine, address = tls_engine
    other = make_certificates(tmp_path / "other")
    cli = DockerCli(tmp_path / "config")
    client = f"cert={tls_certificates.cert},key={tls_certificates.key}"
    cli.ok("context", "create", "wrong-ca", "--docker", f"host={address},ca={other.ca},{client}")
    cli.ok("context", "create", "no-cert", "--docker", f"host={address},ca={tls_certificates.ca}")

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
