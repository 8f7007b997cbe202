"""The pre-commit hook (.pre-commit-hooks.yaml), run by pre-commit itself.

pre-commit checks the manifest (``validate-manifest``), then runs the hook in a
repository of specs as its own local hook: the same entry, args, ``files`` and
``pass_filenames``, but ``language: system``, so the volplan under test is the one on
PATH instead of a copy pre-commit would install from PyPI on every commit (tens of
seconds). pre-commit itself lives in a cached venv (tests/support/tool_cache.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from support.cli import NO_ENGINE_HOST
from support.tool_cache import cached_venv

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
PRE_COMMIT = "pre-commit==4.7.0"

SPEC = """\
    version: 1
    project: shop
    containers:
      web:
        image: busybox:${TAG:-latest}
        network_mode: none
    """


def _pre_commit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    venv = cached_venv("pre-commit", [PRE_COMMIT])
    env = {name: value for name, value in os.environ.items() if not name.startswith("DOCKER_")}
    env |= {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(cwd / ".pre-commit-home"),
        "DOCKER_HOST": NO_ENGINE_HOST,
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [venv / "bin" / "pre-commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _hook() -> dict[str, Any]:
    hooks = YAML(typ="safe").load(MANIFEST.read_text())
    assert [h["id"] for h in hooks] == ["volplan-validate"]
    return dict(hooks[0])


def _repository(tmp_path: Path, policy: str | None) -> Path:
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    (repo / "specs" / "shop.yaml").write_text(textwrap.dedent(SPEC))
    if policy is not None:
        (repo / "volplan.policy.yaml").write_text(policy)
    local = {"repos": [{"repo": "local", "hooks": [_hook() | {"language": "system"}]}]}
    with (repo / ".pre-commit-config.yaml").open("w") as config:
        YAML(typ="safe").dump(local, config)
    subprocess.run(["git", "init", "-q", repo], check=True)
    subprocess.run(["git", "-C", repo, "add", "."], check=True)
    return repo


def test_pre_commit_accepts_the_manifest(tmp_path: Path) -> None:
    checked = _pre_commit("validate-manifest", str(MANIFEST), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_hook_validates_the_specs_with_the_repositorys_policy(tmp_path: Path) -> None:
    passing = _pre_commit("run", "--all-files", cwd=_repository(tmp_path / "a", policy=None))
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "volplan validate" in passing.stdout
    assert "Passed" in passing.stdout

    strict = "version: 1\nvariables: {allow: []}\n"  # the specs may read no variable
    failing = _pre_commit("run", "--all-files", cwd=_repository(tmp_path / "b", policy=strict))
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "Failed" in failing.stdout
    assert "specs/shop.yaml:5:" in failing.stdout  # the policy's finding, where it stands
    assert "TAG" in failing.stdout
