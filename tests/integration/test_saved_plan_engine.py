"""Plan JSON and saved plans against the real engine: schema, determinism, stale refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.gitops import validate, write_specs

pytestmark = pytest.mark.engine

SHOP = """\
    version: 1
    project: shop
    volumes:
      pgdata: {}
      cache:
        labels: {tier: cache}
    containers:
      db:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts:
          - pgdata:/data
          - cache:/cache:ro
    """


def test_plan_json_is_clean_deterministic_and_matches_the_schema(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, SHOP)

    first = run_cli("plan", "specs", "--format", "json", cwd=tmp_path)
    second = run_cli("plan", "specs", "--format", "json", cwd=tmp_path)

    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    validate(document, "plan.schema.json")
    assert document["projects"] == ["shop"]
    assert document["summary"]["create"] == 3
    changes = {c["address"]: c for c in document["resource_changes"]}
    assert changes["volume.pgdata"]["change"]["actions"] == ["create"]
    assert changes["volume.pgdata"]["spec"] == {"file": "specs/shop.yaml", "line": 4, "column": 3}
    assert changes["container.db"]["requires"] == ["volume.cache:create", "volume.pgdata:create"]
    info = clean_engine.client.info()
    assert document["engine"]["daemon_id"] == info["ID"]

    write_specs(tmp_path, SHOP.replace("tier: cache", "tier: hot"))
    assert run_cli("apply", "specs", "--yes", "--allow-data-loss", cwd=tmp_path).exit_code == 0
    write_specs(tmp_path, SHOP)
    replace = json.loads(run_cli("plan", "specs", "--format", "json", cwd=tmp_path).stdout)
    validate(replace, "plan.schema.json")
    by_key = {c["key"]: c for c in replace["resource_changes"]}
    assert by_key["volume.cache:replace"]["change"] == {
        "actions": ["delete", "create"],
        "fields": [{"path": "labels.tier", "before": "hot", "after": "cache"}],
    }
    assert by_key["volume.cache:replace"]["destructive"] is True
    assert by_key["container.db:remove"]["safety"] == "restarts-container"


def test_saved_plan_is_applied_once_and_refused_when_stale(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, SHOP)
    saved = run_cli("plan", "specs", "--out", "plan.json", cwd=tmp_path)
    assert saved.exit_code == 0, saved.stderr
    validate(json.loads((tmp_path / "plan.json").read_text()), "plan.schema.json")
    assert (tmp_path / "plan.json").stat().st_mode & 0o077 == 0

    applied = run_cli("apply", "plan.json", cwd=tmp_path)
    assert applied.exit_code == 0, applied.stderr
    assert clean_engine.volume_names() == {"pgdata", "cache"}
    assert clean_engine.container_names() == {"db"}

    again = run_cli("apply", "plan.json", cwd=tmp_path)
    assert again.exit_code == 1
    assert "stale plan: the engine changed" in again.stderr
    assert "container.db" in again.stderr

    write_specs(tmp_path, SHOP.replace("sleep 300", "sleep 301"))
    assert run_cli("plan", "specs", "--out", "recreate.json", cwd=tmp_path).exit_code == 0
    db_id = clean_engine.inspect_container("db")["Id"]
    clean_engine.client.remove_container("db", force=True)
    clean_engine.client.remove_volume("cache")
    clean_engine.client.create_volume("cache", labels={"tier": "changed-by-hand"})

    stale = run_cli("apply", "recreate.json", cwd=tmp_path)

    assert stale.exit_code == 1
    assert stale.stderr.count("\n") == 1, stale.stderr
    assert "stale plan: the engine changed" in stale.stderr
    assert "volume.cache" in stale.stderr
    assert clean_engine.inspect_volume("cache")["Labels"] == {"tier": "changed-by-hand"}
    assert clean_engine.container_names() == set()
    assert db_id  # the plan named the old container; nothing was created in its place


def test_saved_plan_refuses_changed_specs_and_bad_files(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, SHOP)
    assert run_cli("plan", "specs", "--out", "plan.json", cwd=tmp_path).exit_code == 0
    good = (tmp_path / "plan.json").read_text()
    document = json.loads(good)

    def refused(text: str, expected: str) -> None:
        (tmp_path / "bad.json").write_text(text)
        result = run_cli("apply", "bad.json", cwd=tmp_path)
        assert result.exit_code == 1, result.stdout
        assert expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr

    refused(good[: len(good) // 2], "the JSON is broken")
    refused("[]", "not a volplan plan file")
    refused(json.dumps({**document, "format_version": "3.0"}), "format_version '3.0'")
    refused(json.dumps({**document, "spec_dir": 7}), "spec_dir")
    refused(json.dumps({**document, "live_state": "x"}), "live_state")
    edited_specs = [{**document["sources"][0], "text": SHOP.replace("pgdata", "other")}]
    refused(json.dumps({**document, "sources": edited_specs}), "the plan file was modified")
    edited_changes = [{**c, "reason": "trust me"} for c in document["resource_changes"]]
    refused(json.dumps({**document, "resource_changes": edited_changes}), "resource_changes")
    other_engine = {**document["engine"], "daemon_id": "ABCD:EFGH"}
    refused(json.dumps({**document, "engine": other_engine}), "made against another engine")

    write_specs(tmp_path, SHOP.replace("sleep 300", "sleep 301"))
    refused(good, "stale plan: the specs changed since")
    write_specs(tmp_path, SHOP.replace("project: shop", "project: other"))
    refused(good, "is a plan for project shop, but specs holds project other")

    assert clean_engine.volume_names() == set()
    assert clean_engine.container_names() == set()
