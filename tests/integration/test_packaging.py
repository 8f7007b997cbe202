"""The sdist and the wheel, as a user gets them: built, checked and installed in a fresh venv.

``python -m build`` makes the sdist and then the wheel from the unpacked sdist, so a
file the sdist lacks is missing from the wheel too. The build runs without isolation in
a cached venv holding ``build`` and setuptools (an isolated build would fetch setuptools
on every run), and the fresh venv installs volplan's dependencies from a cached
wheelhouse, so the test reaches PyPI only on a fresh machine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

from support.tool_cache import cached_venv, cached_wheelhouse

from reconciler import __version__

ROOT = Path(__file__).resolve().parents[2]
BUILD = ["build==1.2.2.post1", "setuptools==80.9.0", "wheel==0.45.1"]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SCHEMAS = sorted(p.name for p in (ROOT / "reconciler" / "schemas").glob("*.json"))
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout


def _build(tmp_path: Path) -> tuple[Path, Path]:
    tools = cached_venv("build", BUILD)
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    out = tmp_path / "dist"
    _run(tools / "bin" / "python", "-m", "build", "--no-isolation", "--outdir", out, source)
    (sdist,) = out.glob("volplan-*.tar.gz")
    (wheel,) = out.glob("volplan-*.whl")
    return sdist, wheel


def test_the_sdist_and_wheel_hold_what_a_user_needs_and_install_in_a_fresh_venv(
    tmp_path: Path,
) -> None:
    sdist, wheel = _build(tmp_path)
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "reconciler/py.typed"} <= in_sdist
    assert {f"reconciler/schemas/{name}" for name in SCHEMAS} <= in_sdist

    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
        entry_points = archive.read(f"volplan-{__version__}.dist-info/entry_points.txt").decode()
    assert {n for n in in_wheel if n.startswith("reconciler/schemas/")} == {
        f"reconciler/schemas/{name}" for name in SCHEMAS
    }
    assert "reconciler/py.typed" in in_wheel
    assert "reconciler/__main__.py" in in_wheel
    top = {name.split("/", 1)[0] for name in in_wheel}
    assert top == {"reconciler", f"volplan-{__version__}.dist-info"}  # no tests/, no benchmarks/
    assert "volplan = reconciler.cli.main:main" in entry_points

    tools = cached_venv("build", BUILD)
    house = cached_wheelhouse(PROJECT["dependencies"])
    fresh = tmp_path / "fresh"
    _run(sys.executable, "-m", "venv", "--without-pip", fresh)
    _run(
        tools / "bin" / "pip",
        "--python",
        fresh / "bin" / "python",
        "install",
        "-q",
        "--disable-pip-version-check",
        "--no-compile",  # the venv is thrown away: compiling every module is wasted time
        "--no-index",
        "--find-links",
        house,
        wheel,
    )
    assert _run(fresh / "bin" / "volplan", "--version", cwd=tmp_path) == f"{__version__}\n"
    assert _run(fresh / "bin" / "python", "-m", "reconciler", "version", cwd=tmp_path) == (
        f"{__version__}\n"
    )
    installed = _run(
        fresh / "bin" / "python",
        "-c",
        "import importlib.resources as r, reconciler; print(reconciler.__file__); "
        "print(*sorted(p.name for p in r.files('reconciler').joinpath('schemas').iterdir()))",
        cwd=tmp_path,
    ).split("\n")
    assert installed[0].startswith(str(fresh))
    assert installed[1].split() == SCHEMAS
