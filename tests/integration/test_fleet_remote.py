"""A targets file's remote engines, against real servers on loopback: ``host: ssh://`` (an
sshd in front of this worker's engine), ``host: tcp://`` with the file's ``tls:``, a
``context:`` made by the real docker CLI with its TLS material stored by the CLI (both
reach conftest's ``tls_engine``), and a target whose CA is wrong, refused alone.

Two targets reach the same TLS engine; their ``labels:`` send each its own project there
(``targets: {labels: {site: ...}}``), so neither takes the other's lock or resources.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.cli import NO_ENGINE_HOST, CliResult
from support.docker_cli import DockerCli
from support.engine import Engine
from support.gitops import write_specs
from support.sshd import running_sshd
from support.tls import Certificates, make_certificates

pytestmark = pytest.mark.engine

SITE = """\
    version: 1
    project: rf-{site}
    targets: {{labels: {{site: {site}}}}}
    volumes:
      rf-{site}-data: {{}}
    containers:
      rf-{site}-app:
        image: busybox:latest
        command: [sh, -c, "echo ${{REACHED}} > /data/reached && exec sleep 300"]
        network_mode: none
        stop_timeout: 1
        mounts: ["rf-{site}-data:/data"]
    """
TARGETS = """\
    version: 1
    targets:
      over-ssh:
        host: {ssh}
        labels: {{site: a}}
        variables: {{REACHED: ssh}}
      by-host:
        host: {tls}
        tls: {{ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem}}
        labels: {{site: a}}
        variables: {{REACHED: tls-host}}
      by-context:
        context: secure
        labels: {{site: b}}
        variables: {{REACHED: context}}
      wrong-ca:
        host: {tls}
        tls: {{ca: other/ca.pem, cert: certs/cert.pem, key: certs/key.pem}}
        labels: {{site: b}}
        variables: {{REACHED: never}}
    """


def statuses(result: CliResult) -> dict[str, str]:
    """The summary table's status per target."""
    rows = re.findall(
        r"^  (\S+)\s+.+?\s{2}(failed|drift|in sync|applied)", result.stdout, re.MULTILINE
    )
    return dict(rows)


def reached(engine: Engine, site: str) -> str:
    """What the site's container wrote into its volume, once it has."""
    script = "for i in $(seq 50); do test -s /data/reached && break; sleep 0.1; done"
    code, output = engine.exec_sh(f"rf-{site}-app", f"{script}; cat /data/reached")
    assert code == 0, output
    return output.strip()


def test_ssh_tls_and_a_context_from_one_targets_file_and_a_wrong_ca_fails_alone(
    clean_engine: Engine,
    tls_engine: tuple[Engine, str],
    tls_certificates: Certificates,
    tmp_path: Path,
) -> None:
    secure, address = tls_engine
    secure.reset()
    shutil.copytree(tls_certificates.folder, tmp_path / "certs")  # the file's relative tls:
    make_certificates(tmp_path / "other")
    stored = shutil.copytree(tls_certificates.folder, tmp_path / "for-context")
    cli = DockerCli(tmp_path / "config")
    material = f"ca={stored}/ca.pem,cert={stored}/cert.pem,key={stored}/key.pem"
    cli.ok("context", "create", "secure", "--docker", f"host={address},{material}")
    shutil.rmtree(stored)  # what the context uses now is the copy the CLI stored
    write_specs(tmp_path, SITE.format(site="a"), name="a.yaml")
    write_specs(tmp_path, SITE.format(site="b"), name="b.yaml")

    with running_sshd(tmp_path / "sshd", clean_engine.host) as sshd:
        sshd.known_hosts(sshd.host_key)
        (tmp_path / "targets.yaml").write_text(
            textwrap.dedent(TARGETS.format(ssh=sshd.url, tls=address))
        )
        environment = cli.environment(
            {"HOME": str(sshd.home), "DOCKER_HOST": NO_ENGINE_HOST, "NO_COLOR": "1"}
        )
        environment.pop("SSH_AUTH_SOCK", None)

        def fleet(*args: str) -> CliResult:
            done = subprocess.run(
                [sys.executable, "-m", "reconciler", *args, "specs", "--targets", "targets.yaml"],
                env=environment,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            return CliResult(done.returncode, done.stdout, done.stderr)

        applied = fleet("apply", "--yes")
        wrote = [reached(clean_engine, "a"), reached(secure, "a"), reached(secure, "b")]
        in_sync = fleet("drift")
        secure.client.stop("rf-b-app", timeout=0)
        drifted = fleet(
            "drift", "--target", "over-ssh", "--target", "by-host", "--target", "by-context"
        )

    seen_by_cli = cli.ok("--context", "secure", "volume", "ls", "--format", "{{.Name}}").split()

    assert applied.exit_code == 1, applied.stdout + applied.stderr
    assert statuses(applied) == {
        "over-ssh": "applied",
        "by-host": "applied",
        "by-context": "applied",
        "wrong-ca": "failed",
    }, applied.stdout
    assert (
        f"error: connecting to the Docker engine at {address}: TLS: the engine's certificate "
        "failed verification (unable to get local issuer certificate); check the CA"
    ) in applied.stdout
    assert "=== target by-context (context secure)\n" in applied.stdout
    assert wrote == ["ssh", "tls-host", "context"]
    assert clean_engine.volume_names() == {"rf-a-data"}
    assert secure.volume_names() == {"rf-a-data", "rf-b-data"}
    assert sorted(seen_by_cli) == ["rf-a-data", "rf-b-data"]
    assert secure.container_names() == {"rf-a-app", "rf-b-app"}  # no lock left behind

    assert in_sync.exit_code == 1, in_sync.stdout
    assert statuses(in_sync) == {
        "over-ssh": "in sync",
        "by-host": "in sync",
        "by-context": "in sync",
        "wrong-ca": "failed",
    }, in_sync.stdout
    assert drifted.exit_code == 2, drifted.stdout
    assert statuses(drifted) == {
        "over-ssh": "in sync",
        "by-host": "in sync",
        "by-context": "drift",
    }, drifted.stdout
