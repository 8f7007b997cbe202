"""volplan drift against the real engine: every category, every format, exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from docker.types import Mount
from support.cli import RunCli
from support.engine import IMAGE, Engine
from support.gitops import validate, write_specs

pytestmark = pytest.mark.engine

SHOP = """\
    version: 1
    project: shop
    volumes:
      pgdata: {}
      uploads: {}
      spare: {}
    containers:
      db:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts:
          - pgdata:/data
      web:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts:
          - uploads:/uploads
    """

UNCLAIMED = "1 unclaimed dangling volume, not drift (--include-unclaimed counts them)"
SUMMARY = (
    "Drift: 5 of 7 resources (2 changed, 1 missing, 1 not-in-specs, 1 unmanaged-user, "
    f"2 in-sync). {UNCLAIMED}."
)


def _run_container(engine: Engine, name: str, mounts: list[Mount], labels: dict[str, str]) -> None:
    client = engine.client
    host_config = client.create_host_config(network_mode="none", mounts=mounts)
    client.create_container(
        IMAGE, ["sleep", "300"], name=name, labels=labels, host_config=host_config
    )
    client.start(name)


def _make_drift(engine: Engine) -> None:
    """One finding per category, made by hand the way people do."""
    client = engine.client
    client.remove_volume("spare")  # a removed volume
    client.remove_container("db", force=True)  # db recreated by hand with a different mount
    _run_container(engine, "db", [Mount("/data", "pgdata-copy")], {})
    web_labels = engine.inspect_container("web")["Config"]["Labels"]
    client.remove_container("web", force=True)  # web: an unlabelled volume mounted into it
    mounts = [Mount("/uploads", "uploads"), Mount("/extra", "unlabelled")]
    _run_container(engine, "web", mounts, web_labels)
    client.create_volume("orphan")  # a dangling volume
    client.create_volume("old-logs", labels={"io.volplan.project": "shop"})  # a leftover
    _run_container(engine, "sneaky", [Mount("/peek", "pgdata", read_only=True)], {})


def test_drift_finds_each_category_in_every_format_then_none_after_apply(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, SHOP)
    assert run_cli("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
    in_sync = run_cli("drift", "specs", cwd=tmp_path)
    assert (in_sync.exit_code, in_sync.stdout.splitlines()[-1]) == (
        0,
        "No drift: 5 resources match the specs.",
    )
    _make_drift(clean_engine)

    text = run_cli("drift", "specs", cwd=tmp_path)
    assert text.exit_code == 2, text.stderr
    lines = text.stdout.splitlines()
    assert "~ changed        container.db  (specs/shop.yaml:8)" in lines
    assert "      mounts[/data]: live volume pgdata-copy (rw), spec volume pgdata (rw)" in lines
    assert "~ changed        container.web  (specs/shop.yaml:15)" in lines
    assert "      mounts[/extra]: live volume unlabelled (rw), spec (none)" in lines
    assert "+ missing        volume.spare  (specs/shop.yaml:6)" in lines
    assert "- not-in-specs   volume.old-logs  [fix destroys data]" in lines
    assert "? unmanaged-user container.sneaky" in lines
    assert lines[lines.index(f"{UNCLAIMED}:") + 1] == "? dangling       volume.orphan"
    assert lines[-1] == SUMMARY

    as_json = run_cli("drift", "specs", "--format", "json", cwd=tmp_path)
    assert as_json.exit_code == 2
    report = json.loads(as_json.stdout)
    validate(report, "drift.schema.json")
    statuses = {r["address"]: r["status"] for r in report["resources"]}
    assert statuses == {
        "volume.old-logs": "not-in-specs",
        "container.db": "changed",
        "container.web": "changed",
        "volume.spare": "missing",
        "container.sneaky": "unmanaged-user",
        "volume.pgdata": "in-sync",
        "volume.uploads": "in-sync",
    }
    assert [(r["address"], r["status"]) for r in report["unclaimed"]] == [
        ("volume.orphan", "dangling")
    ]
    assert report["in_sync"] is False
    assert report["resources"][0]["address"] == "volume.old-logs"  # destructive fix first

    markdown = run_cli("drift", "specs", "--format", "markdown", cwd=tmp_path)
    assert markdown.exit_code == 2
    assert markdown.stdout.startswith("## volplan drift: 5 of 7 resources drifted\n")
    rows = [
        line.split(" | ")[:3] for line in markdown.stdout.splitlines() if line.startswith("| `")
    ]
    assert rows == [
        ["| `volume.old-logs`", "not-in-specs", "**yes**"],
        ["| `container.db`", "changed", "no"],
        ["| `container.web`", "changed", "no"],
        ["| `volume.spare`", "missing", "no"],
        ["| `container.sneaky`", "unmanaged-user", "no"],
    ]
    assert "<details><summary>In sync (2)</summary>" in markdown.stdout

    junit = run_cli("drift", "specs", "--format", "junit", "--output", "drift.xml", cwd=tmp_path)
    assert junit.exit_code == 2
    assert junit.stdout.splitlines() == [SUMMARY, "Report (junit) written to drift.xml"]
    failures = {
        case.get("name"): getattr(case.find("failure"), "attrib", {}).get("type")
        for case in ET.parse(tmp_path / "drift.xml").getroot().iter("testcase")
    }
    assert failures == {
        **statuses,
        "volume.pgdata": None,
        "volume.uploads": None,
        "volume.orphan": None,
    }

    clean_engine.client.remove_container("sneaky", force=True)
    fixed = run_cli("apply", "specs", "--yes", "--prune", "--allow-data-loss", cwd=tmp_path)
    assert fixed.exit_code == 0, fixed.stderr
    for leftover in ("orphan", "pgdata-copy", "unlabelled"):
        clean_engine.client.remove_volume(leftover)
    after = run_cli("drift", "specs", "--format", "json", cwd=tmp_path)
    assert after.exit_code == 0, after.stdout
    assert json.loads(after.stdout)["summary"]["in-sync"] == 5


def test_an_unclaimed_dangling_volume_is_not_drift_unless_included(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, SHOP)
    assert run_cli("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
    clean_engine.client.create_volume("left-by-someone")  # dangling, no project's

    quiet = run_cli("drift", "specs", cwd=tmp_path)
    counted = run_cli("drift", "specs", "--include-unclaimed", cwd=tmp_path)
    junit = run_cli("drift", "specs", "--format", "junit", cwd=tmp_path)

    assert quiet.exit_code == 0, quiet.stdout
    assert quiet.stdout.splitlines()[-1] == (f"No drift: 5 resources match the specs. {UNCLAIMED}.")
    assert counted.exit_code == 2, counted.stdout
    assert counted.stdout.splitlines()[-1] == "Drift: 1 of 6 resources (1 dangling, 5 in-sync)."
    assert junit.exit_code == 0
    assert ET.fromstring(junit.stdout).get("failures") == "0"


def test_drift_bad_format_and_unwritable_output_are_one_line_errors(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, SHOP)

    unknown = run_cli("drift", "specs", "--format", "html", cwd=tmp_path)
    unwritable = run_cli("drift", "specs", "--output", "missing/dir/report.md", cwd=tmp_path)

    assert unknown.exit_code == 1
    assert len(unknown.stderr.strip().splitlines()) == 1
    assert "'html' is not one of 'text', 'json', 'markdown', 'junit'" in unknown.stderr
    assert unwritable.exit_code == 1
    assert unwritable.stderr.strip().splitlines() == [
        "error: cannot write missing/dir/report.md: No such file or directory"
    ]
