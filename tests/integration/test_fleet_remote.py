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
import textwrap
from pathlib import Path

import pytest
from support.cli import NO_ENGINE_HOST, CliResult, cli_runner
from support.docker_cli import DockerCli
from support.engine import Engine, relabel
from support.gitops import write_specs, write_targets
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
        home = {"HOME": str(sshd.home), "DOCKER_HOST": NO_ENGINE_HOST}  # key, known_hosts

        def fleet(*args: str) -> CliResult:
            targets = ("specs", "--targets", "targets.yaml")
            return cli.run_volplan(*args, *targets, env=home, cwd=tmp_path)

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


PLACED = """\
    version: 1
    project: rf-{name}
    {targets}
    volumes:
      rf-{name}-data: {{}}
    """


def test_a_saved_plan_is_stale_once_the_engines_own_labels_move_a_project(
    clean_engine: Engine,
    tls_engine: tuple[Engine, str],
    tls_certificates: Certificates,
    tmp_path: Path,
) -> None:
    """``dockerd --label`` changed (daemon.json, then SIGHUP) between plan and apply: a
    project the labels now send elsewhere, or now bring here, refuses the plan, whether
    one engine's or a fleet's, and nothing is applied anywhere."""
    secure, address = tls_engine
    secure.reset()
    write_specs(tmp_path, PLACED.format(name="all", targets=""), name="all.yaml")
    edge_only = "targets: {labels: {role: edge}}"
    write_specs(tmp_path, PLACED.format(name="edge", targets=edge_only), name="edge.yaml")
    certs = shutil.copytree(tls_certificates.folder, tmp_path / "certs")
    tls = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    run = cli_runner(address)
    write_targets(
        tmp_path,
        {
            "here": {"host": clean_engine.host, "labels": {"role": "edge"}},
            "secure": {
                "host": address,
                "tls": {"ca": "certs/ca.pem", "cert": "certs/cert.pem", "key": "certs/key.pem"},
            },
        },
    )
    try:
        relabel(secure, ["role=edge"])
        assert run("plan", "--out", "left.json", "specs", env=tls, cwd=tmp_path).exit_code == 0
        fleet = run(
            "plan", "specs", "--targets", "targets.yaml", "--out", "fleet.json", cwd=tmp_path
        )
        assert fleet.exit_code == 2, fleet.stderr
        relabel(secure, [])
        assert run("plan", "--out", "came.json", "specs", env=tls, cwd=tmp_path).exit_code == 0
        relabel(secure, ["role=edge"])
        came = run("apply", "came.json", env=tls, cwd=tmp_path)
        relabel(secure, ["role=core"])
        left = run("apply", "left.json", env=tls, cwd=tmp_path)
        fleet_left = run("apply", "fleet.json", cwd=tmp_path)
    finally:
        relabel(secure, [])

    assert came.exit_code == 1
    assert came.stderr.startswith(
        "error: stale plan: came.json was made for project rf-all on this engine, whose "
        "labels now select projects rf-all, rf-edge; re-plan"
    ), came.stderr
    assert left.exit_code == 1
    assert left.stderr.startswith(
        "error: stale plan: left.json was made for projects rf-all, rf-edge on this engine, "
        "whose labels now select project rf-all; re-plan"
    ), left.stderr
    assert fleet_left.exit_code == 1, fleet_left.stdout
    assert (
        "error: stale plan: fleet.json was made for projects rf-all, rf-edge on this engine, "
        "whose labels now select project rf-all; re-plan"
    ) in fleet_left.stdout
    assert "not applied: another target refused the saved plan" in fleet_left.stdout
    assert secure.volume_names() == clean_engine.volume_names() == set()
