"""The cache of validated specs: a hit only on an exact match, a miss on anything else.

The cache may make a run faster and nothing more: every way an entry can be wrong, old,
foreign or unsafe to read must end as a miss, and a miss validates the specs afresh.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.pipeline import load
from reconciler.spec import cache
from reconciler.spec.files import SpecSource
from reconciler.spec.loader import build_desired_state

SPEC = b"""
version: 1
project: shop
volumes:
  dbdata: {labels: {team: db}}
containers:
  dbstore: {image: busybox, state: created, mounts: ["dbdata:/dbdata", /scratch]}
  app: {image: busybox, volumes_from: ["dbstore:ro"], mounts: ["./conf:/conf:ro"]}
"""
SOURCES = [SpecSource("shop.yaml", "/srv/specs", SPEC)]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VOLPLAN_NO_CACHE", raising=False)
    return tmp_path / "cache"


def test_a_hit_gives_what_validating_gives(folder: Path) -> None:
    assert cache.lookup(SOURCES) is None

    first = load(SOURCES).desired
    hit = cache.lookup(SOURCES)

    assert hit == first == build_desired_state(SOURCES)
    assert hit is not None
    assert hit.projects == ("shop",)
    assert [p.name for p in folder.iterdir()] == [cache._slot(SOURCES)]
    assert folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    "changed",
    [
        SpecSource("shop.yaml", "/srv/specs", SPEC.replace(b"team: db", b"team: ops")),
        SpecSource("shop.yaml", "/srv/other", SPEC),  # ./conf now means another folder
        SpecSource("renamed.yaml", "/srv/specs", SPEC),
    ],
)
def test_any_change_to_a_file_is_a_miss(folder: Path, changed: SpecSource) -> None:
    load(SOURCES)

    assert cache.lookup([changed]) is None
    assert load([changed]).desired == build_desired_state([changed])


def test_a_changed_spec_replaces_its_old_entry(folder: Path) -> None:
    load(SOURCES)
    edited = [SpecSource("shop.yaml", "/srv/specs", SPEC.replace(b"dbdata:/", b"dbdata:/x/"))]

    load(edited)

    assert len(list(folder.iterdir())) == 1
    assert cache.lookup(SOURCES) is None
    assert cache.lookup(edited) == build_desired_state(edited)


def test_other_code_is_a_miss(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load(SOURCES)

    monkeypatch.setattr(cache, "code_fingerprint", lambda: "volplan, edited")

    assert cache.lookup(SOURCES) is None


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05K\x01."])
def test_a_damaged_entry_is_a_miss_and_is_rewritten(folder: Path, damage: bytes) -> None:
    load(SOURCES)
    (folder / cache._slot(SOURCES)).write_bytes(damage)

    assert cache.lookup(SOURCES) is None
    assert load(SOURCES).desired == build_desired_state(SOURCES)
    assert cache.lookup(SOURCES) is not None


def test_a_folder_others_can_write_is_neither_read_nor_written(folder: Path) -> None:
    load(SOURCES)
    folder.chmod(0o777)

    assert cache.lookup(SOURCES) is None
    (folder / cache._slot(SOURCES)).unlink()
    load(SOURCES)
    assert list(folder.iterdir()) == []


def test_no_cache_turns_it_off(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOLPLAN_NO_CACHE", "1")

    assert load(SOURCES).desired == build_desired_state(SOURCES)
    assert not folder.exists()


def test_a_hit_loads_neither_the_yaml_parser_nor_pydantic(tmp_path: Path) -> None:
    """The point of the cache: on a hit, validate starts without either library."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "shop.yaml").write_bytes(SPEC)
    probe = (
        "import atexit, sys\n"
        "heavy = ('pydantic', 'ruamel.yaml', 'reconciler.spec.loader')\n"
        "atexit.register(lambda: print(*[m for m in heavy if m in sys.modules], sep=','))\n"
        "from reconciler.cli.main import main\n"
        f"main(['validate', {str(specs)!r}])\n"
    )
    env = os.environ | {"VOLPLAN_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}

    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
        for _ in range(2)
    ]

    assert runs[0].stdout.splitlines()[-1] == "pydantic,ruamel.yaml,reconciler.spec.loader"
    assert runs[1].stdout.splitlines()[-1] == ""
    assert runs[0].stdout.splitlines()[0] == runs[1].stdout.splitlines()[0]


INTERPOLATED = b"""
version: 1
project: shop
containers:
  app: {image: "busybox:${TAG:-latest}", env_file: app.env, labels: {site: "${SITE}"}}
"""


@pytest.mark.parametrize(
    "change",
    [
        "set TAG",  # a variable that was unset, and defaulted
        "change SITE",  # a variable's value in the environment
        "unset SITE",
        "change .env",  # the .env next to the specs, read by ${SITE} when unset
        "remove .env",
        "change env_file",  # a container's env_file, whose values are in the state
    ],
)
def test_an_entry_holds_only_while_its_variables_and_files_do(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / ".env").write_text("SITE=eu\n")
    (specs / "app.env").write_text("A=1\n")
    monkeypatch.delenv("TAG", raising=False)
    if ".env" not in change:  # else ${SITE} comes from .env
        monkeypatch.setenv("SITE", "us")
    sources = [SpecSource("shop.yaml", str(specs), INTERPOLATED)]
    first = load(sources).desired
    assert cache.lookup(sources) == first

    match change:
        case "set TAG":
            monkeypatch.setenv("TAG", "1.37")
        case "change SITE":
            monkeypatch.setenv("SITE", "ap")
        case "unset SITE":
            monkeypatch.delenv("SITE")
        case "change .env":
            (specs / ".env").write_text("SITE=ap\n")
        case "remove .env":
            (specs / ".env").unlink()
        case "change env_file":
            (specs / "app.env").write_text("A=2\n")

    assert cache.lookup(sources) is None
    assert load(sources).desired == build_desired_state(sources) != first
    assert cache.lookup(sources) == build_desired_state(sources)


def test_an_entry_holds_no_value_of_the_environment(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry keeps a digest of the variables a spec read, not their values (the
    interpolated state itself holds only what the spec put where)."""
    monkeypatch.setenv("SITE", "s3cr3t-in-env")
    monkeypatch.setenv("UNRELATED_TOKEN", "t0ken")
    sources = [SpecSource("shop.yaml", str(tmp_path), INTERPOLATED.replace(b"env_file", b"x"))]
    with pytest.raises(SpecError):
        load(sources)  # unknown key x: nothing is stored
    assert list(folder.glob("*.pickle")) == []
    ok = [SpecSource("shop.yaml", str(tmp_path), INTERPOLATED.replace(b" env_file: app.env,", b""))]
    load(ok)
    (entry,) = folder.glob("*.pickle")
    assert b"t0ken" not in entry.read_bytes()
