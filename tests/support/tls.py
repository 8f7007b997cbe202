"""Certificates made in the test with the openssl CLI (installed with Debian's base system,
where the ``cryptography`` package is a dependency of nothing volplan's tests install):
a CA, a server certificate for 127.0.0.1 and a client certificate, as the docker daemon's
``--tlsverify`` and the CLI's ``DOCKER_CERT_PATH`` lay them out. EC P-256 keys: fast."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    """``folder`` holds ca.pem, cert.pem, key.pem (the client's, ``DOCKER_CERT_PATH``) and
    server-cert.pem, server-key.pem (the daemon's)."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def cert(self) -> Path:
        return self.folder / "cert.pem"

    @property
    def key(self) -> Path:
        return self.folder / "key.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server-cert.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server-key.pem"


def make_certificates(folder: Path) -> Certificates:
    """A fresh CA in ``folder`` and the two certificates it signs."""
    folder.mkdir(parents=True, exist_ok=True)
    made = Certificates(folder)
    _openssl(
        "req", "-x509", *_NEW_KEY, "-keyout", "ca-key.pem", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=volplan test CA", cwd=folder,
    )  # fmt: skip
    _signed(folder, "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _signed(folder, "client", "extendedKeyUsage=clientAuth\n")
    (folder / "client-cert.pem").rename(made.cert)
    (folder / "client-key.pem").rename(made.key)
    return made


_NEW_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def _signed(folder: Path, name: str, extensions: str) -> None:
    (folder / f"{name}.ext").write_text(extensions)
    _openssl(
        "req", *_NEW_KEY, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
        "-subj", f"/CN={name}", cwd=folder,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
        "-out", f"{name}-cert.pem", cwd=folder,
    )  # fmt: skip


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60
    )
