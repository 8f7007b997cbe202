"""``volplan import compose`` against docker-compose 1.29.2, the independent oracle.

For every project of the corpus (support/compose_corpus.py: real-world files, and our
own), the volumes and each service's mounts, tmpfs and ``volumes_from`` in the imported
spec, as volplan loads it, must equal what ``docker-compose config`` computes from the same
files. Known differences, each handled here and listed in the README ("Coming from
Compose"): docker-compose 1.29.2 predates a few Compose-specification keys (top-level
``name:``, ``bind.create_host_path``, ``bind.selinux``), so its copy of a file goes without
them (``name`` through ``-p``); volplan writes short-syntax binds with
``create_host_path: true``, which is what the engine's ``Binds`` do for Compose, so that
flag is not compared.

Then every imported spec is applied together on the private engine, with the stand-in
images (support/compose_images.py), and planned again: the plan must be empty.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support import compose_oracle
from support.cli import RunCli
from support.compose_corpus import CORPUS, MANIFEST, Case, corrupted, own_cases, real_world_cases
from support.compose_images import build_stand_ins
from support.engine import Engine

from reconciler.cli.main import main
from reconciler.model import DesiredState, MountKind
from reconciler.spec.files import read_spec_dir
from reconciler.spec.loader import build_desired_state

pytestmark = pytest.mark.engine

REAL_WORLD = real_world_cases()
CASES = own_cases() + REAL_WORLD
PROPAGATIONS = {"private", "rprivate", "shared", "rshared", "slave", "rslave"}
_V1_UNKNOWN_SERVICE_KEYS = ("network",)
_V1_UNKNOWN_BIND_KEYS = ("create_host_path", "selinux")


@dataclass(frozen=True, order=True)
class Fact:
    """One mount of a container, as both sides can say it."""

    target: str
    kind: str  # volume | bind | anonymous | tmpfs
    source: str
    read_only: bool
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Imported:
    project: str
    spec: Path
    stderr: str


def test_the_real_world_corpus_is_the_manifests() -> None:
    """Each file of the corpus is byte for byte the one the manifest names (repository,
    commit, path, sha256); the folder lives outside the repository and may be absent."""
    if not REAL_WORLD:
        pytest.skip(
            f"the real-world Compose corpus is not at {CORPUS} (set VOLPLAN_COMPOSE_CORPUS); "
            f"{MANIFEST} names its files; our own Compose projects still run"
        )
    assert len(REAL_WORLD) >= 20
    assert corrupted() == []


@dataclass(frozen=True)
class Prepared:
    """Every case's project, copied once per worker, and what the oracle says of each."""

    projects: Path
    configs: dict[str, Any]
    dropped: dict[str, set[str]]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    projects = tmp_path_factory.mktemp("compose-projects")
    jobs, dropped = [], {}
    for case in CASES:
        project_dir = case.copy_to(projects)
        files, dropped[case.name] = _oracle_copies(project_dir, case.files)
        name = _project_name(case, project_dir)
        env = {"HOME": str(projects / "home")}
        jobs.append(compose_oracle.Job(files, name, project_dir, env))
    configs = dict(zip([c.name for c in CASES], compose_oracle.configs(jobs), strict=True))
    return Prepared(projects, configs, dropped)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_import_equals_docker_compose_config(
    case: Case,
    prepared: Prepared,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    imported = _import(case, prepared.projects / case.name, tmp_path, capsys, monkeypatch)
    state = build_desired_state(read_spec_dir(imported.spec), {})
    expected = prepared.configs[case.name]
    ignored = {"z", "Z"} if "selinux" in prepared.dropped[case.name] else set()
    assert _volplan_volumes(state) == _oracle_volumes(expected, imported.project)
    assert _volplan_mounts(state, ignored) == _oracle_mounts(expected, imported.project, ignored)


HALVES = [half for half in (0, 1) if CASES[half::2]]
"""Both halves of the cases, or the one there is without the real-world corpus."""


@pytest.mark.parametrize("half", HALVES, ids=["first-half", "second-half"][: len(HALVES)])
def test_every_import_applies_and_replans_empty(
    *,
    half: int,
    clean_engine: Engine,
    run_cli: RunCli,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The imported specs of half the cases on one engine (the two halves run beside each
    other), with the changes a private engine needs, made here explicitly: it has no
    network but none (so ``network_mode: none``, and no ``ports``, ``networks`` or
    ``depends_on``), and the stand-in images run none of the real programs (so every
    container is ``state: created``). Absolute bind sources outside the project move under
    the test's folder, so nothing is made on the host itself; external volumes are made
    first, as their users make them."""
    specs = tmp_path / "specs"
    for case in CASES[half::2]:
        _import(case, case.copy_to(tmp_path / "projects"), specs, capsys, monkeypatch)
    externals = _prepare_for_engine(specs, tmp_path / "host")
    state = build_desired_state(read_spec_dir(specs), {})
    build_stand_ins(clean_engine, {c.image for c in state.containers.values()})
    for name in externals:
        clean_engine.client.create_volume(name)
    try:
        applied = run_cli("apply", str(specs), "--yes")
        assert applied.exit_code == 0, applied.stderr + applied.stdout
        replan = run_cli("plan", str(specs), "--detailed-exitcode")
        assert replan.exit_code == 0, replan.stdout
        assert clean_engine.container_names() >= set(state.containers)
    finally:
        clean_engine.reset()


def _project_name(case: Case, project_dir: Path) -> str:
    """The project's name as Compose chooses it: the file's ``name:``, else the folder's."""
    named = YAML(typ="safe", pure=True).load((project_dir / case.files[0]).read_text())
    return str((named or {}).get("name") or case.name)


def _import(
    case: Case,
    project_dir: Path,
    specs: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Imported:
    """``volplan import compose`` run in this process (through ``main``, as the command
    line runs it): hundreds of imports would spend most of their time starting Python."""
    monkeypatch.setenv("HOME", str(project_dir.parent / "home"))
    monkeypatch.chdir(project_dir)
    args = ["import", "compose", *case.files, "--compatibility", "--allow-unsupported"]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "-o", str(specs / case.name)])
    output = capsys.readouterr()
    assert exit_info.value.code == 0, output.err
    written = Path(output.out.split()[1].rstrip(":"))
    return Imported(written.stem, written, output.err)


def _oracle_copies(project_dir: Path, files: tuple[str, ...]) -> tuple[list[Path], set[str]]:
    """The files as docker-compose 1.29.2 reads them: without the keys it predates (read
    as plain data, ``<<`` merges resolved, so a key goes from every service it reached)."""
    yaml = YAML(typ="safe", pure=True)
    copies, dropped = [], set()
    for name in files:
        data = yaml.load((project_dir / name).read_text())
        dropped |= _drop(data, ("name",))
        for service in (data.get("services") or {}).values():
            dropped |= _drop_v1_unknown(service)
        copy = project_dir / f".oracle-{Path(name).name}"
        with copy.open("w") as stream:
            yaml.dump(data, stream)
        copies.append(copy)
    return copies, dropped


def _drop_v1_unknown(service: Any) -> set[str]:
    dropped = _drop(service, _V1_UNKNOWN_SERVICE_KEYS)
    for volume in service.get("volumes") or []:
        bind = volume.get("bind") if isinstance(volume, dict) else None
        if isinstance(bind, dict):
            dropped |= _drop(bind, _V1_UNKNOWN_BIND_KEYS)
        if isinstance(bind, dict) and not bind:
            del volume["bind"]
    return dropped


def _drop(mapping: Any, keys: tuple[str, ...]) -> set[str]:
    present = {key for key in keys if key in mapping}
    for key in present:
        del mapping[key]
    return present


# -- volplan's side -------------------------------------------------------------------


def _volplan_volumes(state: DesiredState) -> dict[str, Any]:
    return {
        name: (v.external, v.driver if not v.external else "", v.driver_opts, v.labels)
        for name, v in state.volumes.items()
    }


def _volplan_mounts(state: DesiredState, ignored: set[str]) -> dict[str, Any]:
    result = {}
    for name, container in state.containers.items():
        facts = [
            Fact(
                m.target,
                "anonymous" if m.kind is MountKind.ANONYMOUS else m.kind.value,
                m.source or "",
                m.read_only,
                _flags(m.selinux, m.propagation, "nocopy" if m.nocopy else None, ignored=ignored),
            )
            for m in container.mounts
        ]
        facts += [
            Fact(path, "tmpfs", "", False, (options,) if options else ())
            for path, options in container.options.tmpfs.items()
        ]
        froms = sorted((f.container, f.read_only) for f in container.volumes_from)
        result[name] = (sorted(facts), froms)
    return result


def _flags(*flags: str | None, ignored: set[str]) -> tuple[str, ...]:
    return tuple(sorted(f for f in flags if f and f not in ignored))


# -- the oracle's side ----------------------------------------------------------------


def _engine_volume(config: Any, key: str, project: str) -> str:
    volume = (config.get("volumes") or {}).get(key) or {}
    if volume.get("name"):
        return str(volume["name"])
    return key if volume.get("external") else f"{project}_{key}"


def _oracle_volumes(config: Any, project: str) -> dict[str, Any]:
    result = {}
    for key, declared in (config.get("volumes") or {}).items():
        volume = declared or {}
        external = bool(volume.get("external"))
        result[_engine_volume(config, key, project)] = (
            external,
            "" if external else volume.get("driver", "local"),
            {k: str(v) for k, v in (volume.get("driver_opts") or {}).items()},
            dict(volume.get("labels") or {}),
        )
    return result


def _oracle_mounts(config: Any, project: str, ignored: set[str]) -> dict[str, Any]:
    services = config.get("services") or {}
    names = {
        service: body.get("container_name") or f"{project}_{service}_1"
        for service, body in services.items()
    }
    result = {}
    for service, body in services.items():
        if body.get("profiles"):
            continue  # Compose leaves out the services of profiles not enabled
        facts = [
            _oracle_fact(config, project, entry, ignored) for entry in body.get("volumes") or []
        ]
        tmpfs = body.get("tmpfs") or []
        for entry in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
            target, _, options = entry.partition(":")
            facts.append(Fact(target, "tmpfs", "", False, (options,) if options else ()))
        froms = []
        for entry in body.get("volumes_from") or []:
            kind, name, *mode = entry.split(":")
            froms.append((names[name] if kind == "service" else name, mode == ["ro"]))
        result[names[service]] = (sorted(facts), sorted(froms))
    return result


def _oracle_fact(config: Any, project: str, entry: Any, ignored: set[str]) -> Fact:
    if isinstance(entry, dict):
        return _oracle_long_fact(config, project, entry, ignored)
    parts = entry.split(":")
    if len(parts) == 1:
        return Fact(parts[0], "anonymous", "", False, ())
    source, target, mode = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
    flags = [flag for flag in mode.split(",") if flag and flag not in {"ro", "rw"}]
    if source.startswith("/"):
        kind = "bind"
    else:
        kind, source = "volume", _engine_volume(config, source, project)
    return Fact(
        posixpath.normpath(target),
        kind,
        source,
        "ro" in mode.split(","),
        _flags(*flags, ignored=ignored),
    )


def _oracle_long_fact(config: Any, project: str, entry: dict[str, Any], ignored: set[str]) -> Fact:
    kind, target = entry["type"], posixpath.normpath(entry["target"])
    if kind == "tmpfs":
        size = (entry.get("tmpfs") or {}).get("size")
        return Fact(target, "tmpfs", "", False, (f"size={size}",) if size else ())
    source = entry.get("source") or ""
    if kind == "volume" and source:
        source = _engine_volume(config, source, project)
    flags = [
        (entry.get("bind") or {}).get("propagation"),
        "nocopy" if (entry.get("volume") or {}).get("nocopy") else None,
    ]
    kind = "anonymous" if kind == "volume" and not source else kind
    return Fact(target, kind, source, bool(entry.get("read_only")), _flags(*flags, ignored=ignored))


# -- the engine -----------------------------------------------------------------------


def _prepare_for_engine(specs: Path, host: Path) -> set[str]:
    """Each spec made runnable on the private engine (the test's docstring says how);
    returns the external volumes to make first."""
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True  # "${KEY}" must stay a string
    externals: set[str] = set()
    for path in sorted(specs.rglob("*.yaml")):
        document = yaml.load(path.read_text())
        externals |= {n for n, v in (document.get("volumes") or {}).items() if v.get("external")}
        for container in (document.get("containers") or {}).values():
            for key in ("ports", "networks", "depends_on", "publish_all"):
                container.pop(key, None)
            container["network_mode"] = "none"
            container["state"] = "created"
            _relocate(container.get("mounts") or [], host)
        with path.open("w") as stream:
            yaml.dump(document, stream)
    return externals


def _relocate(mounts: list[Any], host: Path) -> None:
    for index, written in enumerate(mounts):
        mount = written
        parts = written.split(":") if isinstance(written, str) else []
        if len(parts) > 1 and parts[0].startswith("/") and parts[1].startswith("/"):
            mount = {"source": parts[0], "target": parts[1], "read_only": "ro" in parts[2:]}
        source = mount.get("source") if isinstance(mount, dict) else None
        if isinstance(source, str) and source.startswith("/") and not source.startswith("/tmp/"):
            mounts[index] = {**mount, "source": f"{host}{source}", "create_host_path": True}


@pytest.fixture(autouse=True)
def _no_compose_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what the projects' .env files say: no stray variable of this machine's."""
    for name in list(os.environ):
        if name.startswith("COMPOSE_"):
            monkeypatch.delenv(name)
