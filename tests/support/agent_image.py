"""The agent image of examples/swarm/Dockerfile, built offline for the swarm test.

No registry answers here, so ``FROM python:3.11-slim`` cannot be pulled. The test builds
the same thing from parts it can reach: a Debian rootfs made by ``debootstrap`` with
python3, volplan's dependencies installed from the package index, and the wheel built
from this checkout, in one tar for ``docker import``. The first two are slow (about a
minute) and change rarely; they are cached (``tool_cache.cached``), keyed by their inputs,
and so is the wheel's layer, keyed by the checkout's sources: the image is always this
checkout's, and a second run with the same sources rebuilds nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from support.examples import REPO
from support.tool_cache import cached, cached_venv

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3",)
SITE_PACKAGES = "usr/local/lib/python3.11/dist-packages"
"""Where bookworm's python3 (3.11, like the tests' own) finds packages pip installed."""
TRIMMED = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
)
"""Left out of the rootfs: apt's downloads and lists, documentation and translations
(~140 MB: each node imports the image, so its size is the test's time)."""
ENTRYPOINT = 'ENTRYPOINT ["volplan"]'
LAUNCHER = (
    "#!/usr/bin/python3\nimport sys\nfrom reconciler.cli.main import main\nsys.exit(main())\n"
)
"""What pip writes for the console script in the Dockerfile's image."""
LAUNCHER_PATH = "usr/local/bin/volplan"
LAYOUT = "2"
"""Part of every cache key: raised when this module changes how a cached tar is made."""
LAYER = "layer.tar"
WHEEL_FILES = ("pyproject.toml", "README.md")
"""Besides the package: what the wheel's build reads."""


class AgentImageUnavailableError(Exception):
    """The image's parts cannot be made here: no debootstrap, or no root."""


def build_agent_archive(folder: Path) -> Path:
    """``folder/agent.tar``: the agent image's filesystem, for ``docker import``."""
    rootfs = cached("agent-rootfs", [LAYOUT, SUITE, MIRROR, *PACKAGES, *TRIMMED], _debootstrap)
    requirements = project_requirements()
    listed = _write_lines(folder, requirements)
    deps = cached(
        "agent-deps", [LAYOUT, *requirements], lambda home: _pip_layer(home, ["-r", listed])
    )
    volplan = cached(
        "agent-volplan",
        [LAYOUT, source_digest()],
        lambda home: _pip_layer(home, ["--no-deps", str(build_wheel(folder))], launcher=True),
    )
    archive = folder / "agent.tar"
    shutil.copyfile(rootfs / LAYER, archive)
    for layer in (deps, volplan):  # one at a time: GNU tar 1.34 appends only the first
        subprocess.run(["tar", "-A", "-f", archive, layer / LAYER], check=True)
    return archive


def source_digest() -> str:
    """Of everything the wheel is built from: a checkout's wheel is built once."""
    digest = hashlib.sha256()
    for path in sorted(_sources()):
        digest.update(f"{path.relative_to(REPO)}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _sources() -> list[Path]:
    package = [p for p in (REPO / "reconciler").rglob("*") if p.is_file()]
    return [p for p in package if "__pycache__" not in p.parts] + [
        REPO / name for name in WHEEL_FILES
    ]


def build_wheel(folder: Path) -> Path:
    """The wheel of this checkout, built from a copy of its sources so that no stale
    ``build/`` folder in the checkout can leak a removed module into it."""
    source = folder / "source"
    source.mkdir()
    shutil.copytree(REPO / "reconciler", source / "reconciler")
    for name in WHEEL_FILES:
        shutil.copy(REPO / name, source / name)
    wheels = folder / "wheels"
    backend = cached_venv("wheel-build", build_requirements())
    pip = [str(backend / "bin" / "python"), "-m", "pip", "wheel", "--no-build-isolation"]
    _run([*pip, "--no-deps", "--wheel-dir", str(wheels), str(source)], "pip wheel")
    (wheel,) = wheels.glob("volplan-*.whl")
    return wheel


def build_requirements() -> list[str]:
    """pyproject's ``[build-system] requires``, installed once in a cached venv: pip's
    isolated build would fetch them again on every run."""
    return sorted(_pyproject()["build-system"]["requires"])


def project_requirements() -> list[str]:
    """pyproject's ``[project] dependencies``: what the wheel requires, extras aside."""
    return sorted(_pyproject()["project"]["dependencies"])


def _pyproject() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as pyproject:
        return tomllib.load(pyproject)


def _debootstrap(home: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise AgentImageUnavailableError(
            "debootstrap is missing (scripts/test installs it on Debian, as root)"
        )
    if os.geteuid() != 0:
        raise AgentImageUnavailableError(f"debootstrap needs root; running as uid {os.geteuid()}")
    with tempfile.TemporaryDirectory(dir=home) as scratch:
        rootfs = Path(scratch) / "rootfs"
        include = "--include=" + ",".join(PACKAGES)
        command = ["debootstrap", "--variant=minbase", include, SUITE, str(rootfs), MIRROR]
        _run(command, "debootstrap")
        for trimmed in TRIMMED:
            shutil.rmtree(rootfs / trimmed)
            (rootfs / trimmed).mkdir()
        _tar(rootfs, home / LAYER, sorted(p.name for p in rootfs.iterdir()))


def _pip_layer(home: Path, arguments: list[str], *, launcher: bool = False) -> None:
    """``home/layer.tar``: what ``pip install --target`` puts in the image's site-packages."""
    with tempfile.TemporaryDirectory(dir=home) as scratch:
        layer = Path(scratch)
        site = layer / SITE_PACKAGES
        _pip("install", "--no-compile", "--target", str(site), *arguments)
        shutil.rmtree(site / "bin", ignore_errors=True)  # scripts for the host's python
        entries = [f"{SITE_PACKAGES}/{p.name}" for p in sorted(site.iterdir())]
        if launcher:
            script = layer / LAUNCHER_PATH
            script.parent.mkdir(parents=True)
            script.write_text(LAUNCHER)
            script.chmod(0o755)
            entries.append(LAUNCHER_PATH)
        _tar(layer, home / LAYER, entries)


def _pip(*arguments: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *arguments]
    _run(command, f"pip {arguments[0]}")


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stderr[-3000:]}")


def _tar(folder: Path, target: Path, entries: list[str]) -> None:
    """A tar of ``entries`` (paths in ``folder``) and what they hold, without their parent
    folders: the engine refuses an archive that names a path twice, and the rootfs has
    those already (and a temporary folder's mode 0700 would become the image's ``/``)."""
    subprocess.run(
        ["tar", "--numeric-owner", "-C", str(folder), "-c", "-f", str(target), *entries],
        check=True,
    )


def _write_lines(folder: Path, lines: list[str]) -> str:
    path = folder / "requirements.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    return str(path)
