"""``--targets``: one spec set on three engines at once, one of them unreachable.

The targets are this worker's engine, the shared labelled engine (``edge_engine``: its
dockerd has ``--label role=edge --label zone=a``) and a socket nobody listens on. Names
and projects are this module's own: the labelled engine is shared between the workers.
"""

from __future__ import annotations

import json
import re
import socket
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support.cli import NO_ENGINE_HOST, CliResult, cli_runner
from support.docker_cli import DockerCli
from support.engine import Engine
from support.gitops import validate, write_specs, write_targets
from support.shared_engine import remove_projects

from reconciler.cli.fleet import target_endpoint
from reconciler.engine.contexts import Endpoint, TlsMaterial
from reconciler.errors import Position
from reconciler.model import TlsFiles
from reconciler.spec.targets import Target

WEB = """\
    version: 1
    project: {prefix}-web
    volumes:
      {prefix}-web-data: {{}}
    containers:
      {prefix}-web-app:
        image: busybox:latest
        command: sleep {sleep}
        network_mode: none
        stop_timeout: 1
        environment: {{SITE: "${{SITE}}"}}
        mounts: ["{prefix}-web-data:/data"]
    """
EDGE = """\
    version: 1
    project: {prefix}-edge
    targets: {{labels: {{role: edge, tier: front}}}}
    volumes:
      {prefix}-edge-cache: {{}}
    """


def fleet_folder(root: Path, prefix: str, here: Engine, edge: Engine, *, gone: bool) -> None:
    """Specs for everywhere and for the edge, and the targets file naming the engines."""
    write_specs(root, WEB.format(prefix=prefix, sleep=300), name="web.yaml")
    write_specs(root, EDGE.format(prefix=prefix), name="edge.yaml")
    targets: dict[str, dict[str, Any]] = {
        "here": {"host": here.host, "variables": {"SITE": "here"}},
        "edge": {"host": edge.host, "labels": {"tier": "front"}, "variables": {"SITE": "edge"}},
    }
    if gone:
        targets["gone"] = {"host": f"unix://{root}/nobody.sock"}
    write_targets(root, targets)


def summary_rows(result: CliResult) -> dict[str, str]:
    """The summary table's status per target."""
    rows = re.findall(
        r"^  (\S+)\s+\S+\s+(failed|changes|no changes|drift|in sync|applied)",
        result.stdout,
        re.MULTILINE,
    )
    return dict(rows)


@pytest.fixture
def edge(edge_engine: Engine) -> Engine:
    remove_projects(edge_engine, "fl1-web", "fl1-edge", "fl2-web", "fl2-edge")
    return edge_engine


@pytest.mark.engine
def test_three_targets_one_unreachable_in_every_format(
    clean_engine: Engine, edge: Engine, tmp_path: Path
) -> None:
    fleet_folder(tmp_path, "fl1", clean_engine, edge, gone=True)
    run = cli_runner("unix:///nonexistent/no-default.sock")

    def fleet(*args: str) -> CliResult:
        return run(*args, "specs", "--targets", "targets.yaml", cwd=tmp_path)

    text = fleet("plan")
    as_json = fleet("plan", "--format", "json")
    applied = fleet("apply", "--yes", "--parallel-targets", "2")
    drifts = {f: fleet("drift", "--format", f) for f in ("json", "markdown", "junit")}

    assert text.exit_code == 1, text.stderr
    assert summary_rows(text) == {"here": "changes", "edge": "changes", "gone": "failed"}, (
        text.stdout + text.stderr
    )
    assert "=== target gone (unix://" in text.stdout
    assert "the Docker engine did not answer" in text.stdout
    assert "Not for this target (labels: (none)), by their targets: labels: project fl1-edge" in (
        text.stdout
    )
    document = json.loads(as_json.stdout)
    validate(document, "fleet.schema.json")
    assert as_json.exit_code == 1
    assert document["summary"] == {"targets": 3, "failed": 1, "changes": 2, "no_changes": 0}
    targets = document["targets"]
    assert targets["here"]["plan"]["summary"]["create"] == 2
    assert targets["here"]["elsewhere"] == ["fl1-edge"]
    assert targets["edge"]["plan"]["summary"]["create"] == 3
    assert targets["edge"]["labels"] == {"role": "edge", "tier": "front", "zone": "a"}
    assert targets["gone"]["status"] == "failed"
    assert "did not answer" in targets["gone"]["error"]

    assert applied.exit_code == 1, applied.stderr
    assert summary_rows(applied) == {"here": "applied", "edge": "applied", "gone": "failed"}, (
        applied.stdout + applied.stderr
    )
    assert "[edge] + create volume.fl1-edge-cache: done" in applied.stderr
    assert clean_engine.volume_names() == {"fl1-web-data"}
    assert "fl1-edge-cache" in edge.volume_names()
    assert "SITE=edge" in edge.inspect_container("fl1-web-app")["Config"]["Env"]
    assert "SITE=here" in clean_engine.inspect_container("fl1-web-app")["Config"]["Env"]

    assert [d.exit_code for d in drifts.values()] == [1, 1, 1]
    drift = json.loads(drifts["json"].stdout)
    validate(drift, "fleet.schema.json")
    assert drift["summary"] == {"targets": 3, "failed": 1, "drift": 0, "in_sync": 2}
    markdown = drifts["markdown"].stdout
    assert markdown.startswith("## volplan drift: 3 targets, 0 drifted, 1 failed\n")
    assert "| gone | unix://" in markdown
    assert "### edge: 0 of 3 resources drifted" in markdown
    suites = ET.fromstring(drifts["junit"].stdout)
    assert [s.get("name") for s in suites] == [
        "volplan drift: here",
        "volplan drift: edge",
        "volplan drift: gone",
    ]
    assert suites.get("errors") == "1"

    reachable = ("--target", "here", "--target", "edge")
    assert fleet("plan", *reachable).exit_code == 0
    edge.client.stop("fl1-web-app", timeout=0)
    drifted = fleet("drift", *reachable)
    assert drifted.exit_code == 2, drifted.stdout
    assert summary_rows(drifted) == {"here": "in sync", "edge": "drift"}
    remove_projects(edge, "fl1-web", "fl1-edge")


@pytest.mark.engine
def test_a_fleets_saved_plan_is_applied_everywhere_or_nowhere(
    clean_engine: Engine, edge: Engine, tmp_path: Path
) -> None:
    fleet_folder(tmp_path, "fl2", clean_engine, edge, gone=False)
    run = cli_runner("unix:///nonexistent/no-default.sock")

    def fleet(*args: str) -> CliResult:
        return run(*args, "specs", "--targets", "targets.yaml", cwd=tmp_path)

    saved = fleet("plan", "--out", "fleet.json")
    first = run("apply", "fleet.json", cwd=tmp_path)

    assert saved.exit_code == 2, saved.stderr
    validate(json.loads((tmp_path / "fleet.json").read_text()), "fleet.schema.json")
    assert first.exit_code == 0, first.stderr
    assert summary_rows(first) == {"here": "applied", "edge": "applied"}
    assert "fl2-web-app" in clean_engine.container_names()

    write_specs(tmp_path, WEB.format(prefix="fl2", sleep=301), name="web.yaml")
    assert fleet("plan", "--out", "recreate.json").exit_code == 2
    edge.client.create_volume("fl2-stray", labels={"io.volplan.project": "fl2-web"})
    stale = run("apply", "recreate.json", cwd=tmp_path)

    assert stale.exit_code == 1
    assert summary_rows(stale) == {"here": "failed", "edge": "failed"}
    assert "stale plan: the engine changed since recreate.json was made" in stale.stdout
    assert "volume.fl2-stray" in stale.stdout
    assert "not applied: another target refused the saved plan" in stale.stdout
    for engine in (clean_engine, edge):
        assert engine.inspect_container("fl2-web-app")["Config"]["Cmd"] == ["sleep", "300"]

    assert fleet("plan", "--out", "fresh.json").exit_code == 2
    fresh = run("apply", "fresh.json", cwd=tmp_path)

    assert fresh.exit_code == 0, fresh.stdout
    for engine in (clean_engine, edge):
        assert engine.inspect_container("fl2-web-app")["Config"]["Cmd"] == ["sleep", "301"]
    assert run("apply", "fresh.json", cwd=tmp_path).exit_code == 1  # applied once only
    remove_projects(edge, "fl2-web", "fl2-edge")


def test_a_targets_context_is_resolved_as_the_cli_does_and_its_tls_is_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = DockerCli(tmp_path / "config")
    cli.ok("context", "create", "edge-ctx", "--docker", "host=tcp://127.0.0.1:2376")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "config"))
    tls = TlsFiles("/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem")
    by_context = Target("edge", None, "edge-ctx", Position("targets.yaml", 3, 5))
    by_host = Target("core", "tcp://core:2376", None, Position("targets.yaml", 5, 5), tls=tls)

    assert target_endpoint(by_context).host == "tcp://127.0.0.1:2376"
    assert target_endpoint(replace(by_context, tls=tls)).tls == TlsMaterial(
        Path("/certs/ca.pem"), Path("/certs/cert.pem"), Path("/certs/key.pem"), verify=True
    )
    assert target_endpoint(by_host) == Endpoint(
        "tcp://core:2376",
        tls=TlsMaterial(
            Path("/certs/ca.pem"), Path("/certs/cert.pem"), Path("/certs/key.pem"), verify=True
        ),
    )


def test_a_bad_targets_file_is_one_error_and_no_engine_is_asked(tmp_path: Path) -> None:
    write_specs(tmp_path, WEB.format(prefix="fl3", sleep=300), name="web.yaml")
    (tmp_path / "targets.yaml").write_text(
        "version: 1\ntargets:\n  here:\n    host: htp://here:2375\n"
    )

    result = cli_runner("unix:///nonexistent/no-default.sock")(
        "plan", "specs", "--targets", "targets.yaml", cwd=tmp_path
    )

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith(
        "targets.yaml:4:11: error: targets.here.host: 'htp://here:2375' is not an engine address"
    )


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_spec_error_is_one_error_at_once_while_an_engine_never_answers(
    tmp_path: Path, command: str
) -> None:
    """The engines are read while the specs load; a spec error ends the run with that one
    error, without waiting for an engine that takes requests and never answers them."""
    write_specs(tmp_path, WEB.format(prefix="fl4", sleep="300") + "    nonsense: 1\n")
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(tmp_path / "silent.sock"))
    silent.listen(16)
    write_targets(tmp_path, {"silent": {"host": f"unix://{tmp_path}/silent.sock"}})
    started = time.monotonic()

    with silent:
        result = cli_runner(NO_ENGINE_HOST)(
            command, "specs", "--targets", "targets.yaml", cwd=tmp_path
        )

    assert result.exit_code == 1, result.stderr
    assert result.stdout == ""
    assert re.match(r"specs/shop\.yaml:\d+:\d+: error: .*nonsense", result.stderr), result.stderr
    assert time.monotonic() - started < 30, "the run waited for the silent engine"
