"""The spec format's JSON Schema: in step with the models, accepting every valid spec the
project holds, and refusing the bad ones it can tell apart (the rest only the loader can).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from test_loader import INVALID

from reconciler.spec.files import POLICY_FILE_NAME, SPEC_SUFFIXES
from reconciler.spec.json_schema import COMMITTED, SCHEMA_FILE_NAME, spec_schema, spec_schema_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FOLDERS = sorted(
    p for p in (ROOT / "examples").iterdir() if p.is_dir() and p.name not in {"ci", "images"}
)
"""Spec examples (``ci`` holds CI workflows, ``images`` Dockerfiles)."""
VALIDATOR = jsonschema.Draft202012Validator(spec_schema())


def test_the_committed_schema_matches_the_models() -> None:
    assert COMMITTED.read_text() == spec_schema_text(), (
        f"{COMMITTED.relative_to(ROOT)} is out of date with reconciler/spec/schema.py; "
        f"refresh it with: volplan schema -o {COMMITTED.relative_to(ROOT)}"
    )


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(spec_schema())


def _documents(path: Path) -> Iterator[Any]:
    yield from YAML(typ="safe", pure=True).load_all(path.read_text())


def _spec_files(folder: Path) -> list[Path]:
    """What ``volplan plan FOLDER`` reads (spec/files.py's rule)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in SPEC_SUFFIXES
        and p.name != POLICY_FILE_NAME
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _example_files() -> list[Path]:
    return [f for folder in EXAMPLE_FOLDERS for f in _spec_files(folder)] + _spec_files(
        ROOT / "specs"
    )


def _corpus_files() -> list[Path]:
    """The planner corpus's specs and the integration tests' spec fixtures."""
    cases = [f for case in sorted((ROOT / "tests" / "cases").iterdir()) if case.is_dir()
             for f in sorted(case.rglob("*.yaml"))]  # fmt: skip
    return cases + sorted((ROOT / "tests" / "integration" / "data").rglob("*.yaml"))


@pytest.mark.parametrize(
    "path", [*_example_files(), *_corpus_files()], ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_example_and_valid_spec_validates(path: Path) -> None:
    for document in _documents(path):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]
        assert not errors, errors


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_names_the_committed_schema_in_its_modeline(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix), f"{path.name} starts with {first!r}"
    target = (path.parent / first.removeprefix(prefix)).resolve()
    assert target == COMMITTED
    assert target.name == SCHEMA_FILE_NAME


CAUGHT_BY_SCHEMA = {
    "unknown key with suggestion",
    "missing key points at its parent",
    "schema and reference problems in one run",
    "a restart policy that is not one lists the valid ones",
    "bad names",
    "reserved label keys",
    "unquoted number where a string is needed",
    "not a mapping",
    "external volume with config",
}
"""The loader's bad specs (test_loader.INVALID) the schema refuses too."""
LOADER_ONLY = {
    "relative container path": "inside a mount string",
    "undeclared volume with suggestion": "a reference to what the document declares",
    "unknown volumes_from source": "a reference to what the document declares",
    "volumes_from cycle": "a rule across containers",
    "inherited target clash": "a rule across containers",
    "two own mounts at one target name both": "a rule across a list's items",
    "a flow-style mount with a colon asks for quotes": "YAML parsers read it; volplan's refuses",
    "a target of / after normalisation": "inside a mount string, and // once normalised",
    "mode flags in the wrong place": "the flags inside a mount string",
    "aliases": "valid YAML, refused by volplan's reader",
    "duplicate key": "not YAML a JSON Schema validator gets to see",
    "object tags": "not YAML a JSON Schema validator gets to see",
    "YAML syntax": "not YAML a JSON Schema validator gets to see",
}
"""The loader's bad specs the schema cannot tell from good ones, and why."""


def _schema_refuses(text: str) -> bool:
    """Whether an editor using the schema would flag the spec: YAML it cannot read counts
    as not flagged by the schema (the YAML parser flags it instead)."""
    try:
        documents = list(YAML(typ="safe", pure=True).load_all(text))
    except YAMLError:
        return False
    return any(not VALIDATOR.is_valid(d) for d in documents)


def test_the_schema_refuses_the_bad_specs_it_can_tell() -> None:
    refused = {name for name, (text, _) in INVALID.items() if _schema_refuses(text)}
    assert refused == CAUGHT_BY_SCHEMA
    assert set(INVALID) - refused == set(LOADER_ONLY)


@pytest.mark.parametrize(
    ("fragment", "valid"),
    [
        ({"command": "sleep 3600", "mounts": ["data:/data", "/anon"]}, True),
        ({"environment": ["A=1"], "tmpfs": "/run:size=1m", "env_file": "app.env"}, True),
        ({"shm_size": "64m", "mem_limit": 1024, "cpus": "0.5"}, True),
        ({"healthcheck": {"test": "true", "interval": "1m30s"}}, True),
        ({"networks": ["front"], "depends_on": ["db"]}, True),
        ({"healthcheck": {"interval": 30}}, False),  # a duration needs a unit
        ({"shm_size": "lots"}, False),
        ({"networks": {"-x": None}}, False),
        ({"mounts": [{"target": "/x", "bogus": 1}]}, False),
        ({"imagee": "typo"}, False),
    ],
)
def test_shorthands_the_loader_takes_are_valid_and_mistakes_are_not(
    fragment: dict[str, Any], valid: bool
) -> None:
    container = {"image": "busybox", **fragment}
    document = {"version": 1, "project": "web", "containers": {"web": container}}
    assert VALIDATOR.is_valid(document) is valid
