"""The engine lock against the real engine: applies never interleave; unlock releases."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker.types import Mount
from support.cli import RunCli
from support.engine import IMAGE, Engine
from support.gitops import start_cli, write_specs

pytestmark = pytest.mark.engine

SHOP = """\
    version: 1
    project: shop
    volumes:
      data: {}
    containers:
      app:
        image: busybox:latest
        command: ["sh", "-c", "echo started >> /data/starts; exec sleep 300"]
        network_mode: none
        stop_timeout: 1
        mounts: ["data:/data"]
    """

HOLDER = {
    "io.volplan.lock": "shop",
    "io.volplan.lock.id": "held-by-test",
    "io.volplan.lock.who": "alice@ci-runner",
    "io.volplan.lock.pid": "4242",
    "io.volplan.lock.operation": "apply",
    "io.volplan.lock.created": "2026-01-01T00:00:00+00:00",
}
HOLDER_TEXT = (
    "alice@ci-runner (pid 4242, apply) since 2026-01-01T00:00:00+00:00, lock id held-by-test"
)


def _lock_names(engine: Engine) -> set[str]:
    return {n for n in engine.container_names() if n.startswith("volplan-lock-")}


def test_a_held_lock_makes_apply_wait_then_fail_naming_the_holder(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, SHOP)
    clean_engine.client.create_container(IMAGE, ["true"], name="volplan-lock-shop", labels=HOLDER)

    blocked = run_cli("apply", "specs", "--yes", "--lock-timeout", "1", cwd=tmp_path)

    assert blocked.exit_code == 1
    assert f"waiting for the lock on project shop, held by {HOLDER_TEXT}" in blocked.stderr
    assert f"error: project 'shop' is locked by {HOLDER_TEXT} (waited 1s)." in blocked.stderr
    assert "volplan unlock shop --force" in blocked.stderr
    assert clean_engine.container_names() == {"volplan-lock-shop"}
    assert clean_engine.volume_names() == set()

    waiting = start_cli(
        clean_engine.host, "apply", "specs", "--yes", "--lock-timeout", "120", cwd=tmp_path
    )
    assert waiting.stderr is not None
    assert waiting.stderr.readline().startswith("waiting for the lock on project shop")
    not_stale = run_cli("unlock", "shop", cwd=tmp_path)
    released = run_cli("unlock", "shop", "--force", cwd=tmp_path)
    stdout, stderr = waiting.communicate(timeout=120)

    assert not_stale.exit_code == 1
    assert "not known to be gone" in not_stale.stderr
    assert released.stdout == f"project shop: released the lock of {HOLDER_TEXT}\n"
    assert waiting.returncode == 0, stderr
    assert "Apply complete: 2 actions done." in stdout
    assert clean_engine.container_names() == {"app"}


def test_two_concurrent_applies_are_serialised(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, SHOP)
    args = ("apply", "specs", "--yes", "--lock-timeout", "120")

    runs = [start_cli(clean_engine.host, *args, cwd=tmp_path) for _ in range(2)]
    outputs = [run.communicate(timeout=240) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    finals = sorted(stdout.strip().splitlines()[-1] for stdout, _ in outputs)
    assert finals == [
        "Apply complete: 2 actions done.",
        "No changes. The engine matches the specs (2 resources).",
    ]
    assert clean_engine.run_with_volumes("cat /data/starts", mounts=[Mount("/data", "data")]) == (
        0,
        "started\n",
    )
    assert _lock_names(clean_engine) == set()
