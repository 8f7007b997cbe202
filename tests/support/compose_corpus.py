"""The Compose projects the import is tested on: real-world files and our own.

The real-world files (public repositories; source, commit and sha256 of each in
``tests/compose/corpus-manifest.tsv``) are data this repository does not hold: they are
read from ``$VOLPLAN_COMPOSE_CORPUS`` (default: ``shared/compose-corpus`` beside the
checkout, else ``/work/shared/compose-corpus``), each
checked against its sha256. Our own projects (``tests/compose/own/``, written for these
tests) are always there. A project is copied to a temporary folder and given what its
files refer to but no repository ships with them: build contexts, env files, bind
sources, and a ``.env`` for the variables a file requires (the table below).
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

TESTS = Path(__file__).resolve().parents[1]
MANIFEST = TESTS / "compose" / "corpus-manifest.tsv"
OWN = TESTS / "compose" / "own"
_PLACES = (TESTS.parents[1] / "shared" / "compose-corpus", Path("/work/shared/compose-corpus"))
"""``shared/`` beside the checkout (where CI has it), then this workplace's."""
CORPUS = Path(
    os.environ.get("VOLPLAN_COMPOSE_CORPUS")
    or next((str(place) for place in _PLACES if place.is_dir()), str(_PLACES[-1]))
)

DOTENV = {
    "ac-plex": "PLEX_MEDIA_PATH=./media\n",
    "c2c-front": "docker_base=camptocamp/geoportal\ndocker_tag=2.8\n",
    "dc-project-volume-bind": "TEST_DIR={project}/data\n",
}
"""``.env`` files we write for variables the real files leave to their users."""
OWN_FILES = {"shop": ("compose.yaml", "compose.override.yaml")}


@dataclass(frozen=True)
class Case:
    name: str
    source: Path
    files: tuple[str, ...]
    real_world: bool

    def copy_to(self, folder: Path) -> Path:
        """The project in ``folder/NAME``, with what its files need around them."""
        project = folder / self.name
        shutil.copytree(self.source, project)
        if self.name in DOTENV:
            (project / ".env").write_text(DOTENV[self.name].format(project=project))
        for file in self.files:
            _provide(project, YAML(typ="safe", pure=True).load((project / file).read_text()))
        return project


def own_cases() -> list[Case]:
    return [Case(name, OWN / name, files, False) for name, files in OWN_FILES.items()]


def real_world_cases() -> list[Case]:
    """The cases of the manifest; ``[]`` when the corpus folder is absent."""
    if not CORPUS.is_dir():
        return []
    files: dict[str, list[str]] = defaultdict(list)
    for row in manifest():
        files[row["case"]].append(row["file"])
    return [Case(name, CORPUS / name, tuple(names), True) for name, names in files.items()]


def manifest() -> list[dict[str, str]]:
    with MANIFEST.open(newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


def corrupted() -> list[str]:
    """The corpus files whose content is not the manifest's (missing ones included)."""
    wrong = []
    for row in manifest():
        path = CORPUS / row["case"] / row["file"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        if digest != row["sha256"]:
            wrong.append(f"{path}: sha256 {digest}, manifest {row['sha256']}")
    return wrong


def _provide(project: Path, compose: Any) -> None:
    services = (compose or {}).get("services") or {}
    for service in services.values():
        build = service.get("build")
        context = build.get("context", ".") if isinstance(build, dict) else build
        if isinstance(context, str):
            (project / context).mkdir(parents=True, exist_ok=True)
        env_files = service.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = project / (env_file if isinstance(env_file, str) else env_file["path"])
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("EXAMPLE=1\n")
        for volume in service.get("volumes") or []:
            _bind_source(project, volume)


def _bind_source(project: Path, volume: Any) -> None:
    """A relative bind source as the project's checkout would have it: a file where its
    name has a suffix (``nginx.conf``), else a folder."""
    if isinstance(volume, dict):
        source = volume.get("source") if volume.get("type") == "bind" else None
    else:
        source = str(volume).split(":")[0] if ":" in str(volume) else None
    if not source or not source.startswith("."):
        return
    path = (project / source).resolve()
    if path.exists() or not path.is_relative_to(project):
        return
    if path.suffix:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("stand-in content\n")
    else:
        path.mkdir(parents=True)
