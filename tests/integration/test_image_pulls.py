"""Pull policies against the real engine: plan never pulls, apply pulls before it plans.

No registry is reachable here, so every image these tests let apply pull is named after
a registry on a closed loopback port (127.0.0.1:1): a pull is seen by its refusal, and
no request ever leaves the machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.images import TAGS

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("test_images")]

LOCAL = "127.0.0.1:1/volplan/redis-like:7"
"""The redis-like image under a registry that refuses connections."""
SPEC = """\
version: 1
project: pulls
containers:
  cache:
    image: 127.0.0.1:1/volplan/redis-like:7
    network_mode: none
    PULL
"""


def write(folder: Path, pull: str | None) -> Path:
    text = SPEC.replace("PULL", f"pull: {pull}" if pull else "")
    (folder / "app.yaml").write_text(text)
    return folder


def test_pull_always_pulls_before_anything_changes(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    clean_engine.client.tag(TAGS["redis-like"], LOCAL)
    folder = write(tmp_path, "always")

    plan = run_cli("plan", str(folder))
    applied = run_cli("apply", "--yes", str(folder))

    assert plan.exit_code == 0, plan.stderr
    assert f"Note: container.cache: apply pulls image {LOCAL} first (pull: always)" in plan.stdout
    assert applied.exit_code == 1
    assert f"pulling image {LOCAL}" in applied.stderr
    assert clean_engine.container_names() == set()  # nothing was changed
    overridden = run_cli("apply", "--yes", "--pull", "missing", str(folder))
    assert overridden.exit_code == 0, overridden.stderr
    assert clean_engine.container_names() == {"cache"}


def test_pull_never_refuses_a_missing_image_and_missing_pulls_it(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    if LOCAL in _tags(clean_engine):  # tagged by the test above, on this engine
        clean_engine.client.remove_image(LOCAL)
    folder = write(tmp_path, "never")

    plan = run_cli("plan", str(folder))
    never = run_cli("apply", "--yes", str(folder))
    missing = run_cli("apply", "--yes", "--pull", "missing", str(folder))

    assert f"Note: container.cache: image {LOCAL} is not on the engine, and pull: never" in (
        plan.stdout
    )
    assert never.exit_code == 1
    assert f"image {LOCAL} is not on the engine, and pull: never forbids pulling it" in (
        never.stderr
    )
    assert missing.exit_code == 1
    assert f"pulling image {LOCAL}" in missing.stderr
    assert clean_engine.container_names() == set()


def _tags(engine: Engine) -> set[str]:
    return {tag for image in engine.client.images() for tag in image["RepoTags"] or ()}
