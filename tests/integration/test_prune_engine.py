"""apply --prune against the real engine: exactly the labelled leftovers go, safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docker.types import Mount
from support.cli import RunCli
from support.engine import IMAGE, Engine
from support.gitops import write_specs

from reconciler.identity import ActionKey, ActionKind, Address

pytestmark = pytest.mark.engine

BEFORE = """\
    version: 1
    project: shop
    volumes:
      keep: {}
      old: {}
      vault: {protect: true}
      held: {}
    containers:
      app:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: ["keep:/keep"]
      retired:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: ["old:/old", /scratch]
    """

AFTER = """\
    version: 1
    project: shop
    volumes:
      keep: {}
    containers:
      app:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: ["keep:/keep"]
    """


def test_prune_removes_exactly_the_labelled_leftovers(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, BEFORE)
    assert run_cli("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
    client = clean_engine.client
    client.create_volume("mine")  # unlabelled: never pruned
    client.create_container(
        IMAGE,
        ["sleep", "300"],
        name="holder",  # not volplan's, holds a leftover volume
        host_config=client.create_host_config(network_mode="none", mounts=[Mount("/h", "held")]),
    )
    anonymous = clean_engine.inspect_container("retired")["Mounts"]
    scratch = next(m["Name"] for m in anonymous if m["Destination"] == "/scratch")
    volumes_before = clean_engine.volume_names()
    write_specs(tmp_path, AFTER)

    planned = run_cli("plan", "specs", "--prune", "--format", "json", cwd=tmp_path)
    refused = run_cli("apply", "specs", "--prune", "--yes", cwd=tmp_path)

    document = json.loads(planned.stdout)
    assert [c["key"] for c in document["resource_changes"]] == [
        "container.retired:remove",
        str(ActionKey(ActionKind.REMOVE, Address.volume(scratch))),
        "volume.old:remove",
    ]
    assert document["notes"] == [
        {"address": "volume.held", "reason": "kept: in use by container holder"},
        {
            "address": "volume.vault",
            "reason": "kept: it is protected (io.volplan.protect); never pruned",
        },
    ]
    assert refused.exit_code == 1
    assert "refusing to destroy data" in refused.stderr
    assert clean_engine.container_names() == {"app", "retired", "holder"}
    assert clean_engine.volume_names() == volumes_before

    pruned = run_cli("apply", "specs", "--prune", "--yes", "--allow-data-loss", cwd=tmp_path)

    assert pruned.exit_code == 0, pruned.stderr
    assert "Note: volume.held: kept: in use by container holder" in pruned.stdout
    assert clean_engine.container_names() == {"app", "holder"}
    assert clean_engine.volume_names() == {"keep", "vault", "held", "mine"}


def test_protected_volume_is_never_replaced(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, "version: 1\nproject: shop\nvolumes:\n  vault: {protect: true}\n")
    assert run_cli("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
    changed = "version: 1\nproject: shop\nvolumes:\n  vault:\n    labels: {tier: gold}\n"
    write_specs(tmp_path, changed)  # protect dropped in the same change: the label still holds

    result = run_cli("apply", "specs", "--yes", "--allow-data-loss", cwd=tmp_path)

    assert result.exit_code == 1
    assert "protected volumes replaced, which volplan never does" in result.stderr
    assert (
        "volume.vault (specs/shop.yaml:4:3): labels.tier: live None, spec 'gold'" in result.stderr
    )
    assert clean_engine.inspect_volume("vault")["Labels"]["io.volplan.protect"] == "true"
