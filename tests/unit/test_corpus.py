"""The planner corpus: each folder of tests/cases/ planned exactly as ``volplan plan`` plans.

A case is a spec, the engine's raw answers and the expected output (tests/cases/README.md).
No engine runs: the answers go through the adapter's parser (``engine/records.py``) and
the live reader's normaliser; the specs through ``pipeline.load`` from memory, with the
built-in host-path policy; then ``pipeline.plan`` (recovery, the differ, the planner, the
data-safety rewrites) and the renderers. The expected files are golden text:
``pytest --update-goldens`` rewrites them, to be reviewed in the diff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine.records import (
    parse_container_list,
    parse_image_inspect,
    parse_image_list,
    parse_info,
    parse_volume_list,
)
from reconciler.errors import VolplanError
from reconciler.live.reader import normalise
from reconciler.model import LiveState
from reconciler.pipeline import Planned, complete, load, plan
from reconciler.plan.document import dumps, plan_document
from reconciler.plan.options import PlanOptions
from reconciler.policy.rules import DEFAULT_POLICY
from reconciler.render.text import render_plan
from reconciler.spec.files import SpecSource

CASES = Path(__file__).parents[1] / "cases"
SPEC_FOLDER = "/srv/volplan"
"""Where the specs are said to live: the folder a ``./`` bind source is relative to."""
GOLDENS = ("plan.txt", "plan.json", "error.txt")
LIVE_KEYS = {"endpoint", "api_version", "info", "volumes", "containers", "images", "image_inspects"}


@dataclass(frozen=True)
class Case:
    folder: Path
    about: str
    options: PlanOptions
    xfail: str | None

    @classmethod
    def read(cls, folder: Path) -> Case:
        meta: dict[str, Any] = json.loads((folder / "case.json").read_text(encoding="utf-8"))
        unknown = meta.keys() - {"about", "options", "xfail"}
        assert not unknown, f"{folder.name}/case.json: unknown keys {sorted(unknown)}"
        return cls(folder, meta["about"], PlanOptions(**meta.get("options", {})), meta.get("xfail"))

    def sources(self) -> list[SpecSource]:
        """``spec.yaml``, or every spec file below ``specs/``, named as the CLI names them."""
        single = self.folder / "spec.yaml"
        paths = [single] if single.exists() else sorted((self.folder / "specs").rglob("*.yaml"))
        return [
            SpecSource(str(p.relative_to(self.folder)), SPEC_FOLDER, p.read_bytes()) for p in paths
        ]

    def live(self) -> LiveState:
        """``live.json``: the engine's answers, read as the adapter and the live reader read
        them. ``images`` (``/images/json``) is optional: without it the state is one recorded
        before volplan listed images. ``image_inspects`` are the ``/images/{id}/json``
        answers the plan's image checks get (image volumes, stop signals)."""
        raw: dict[str, Any] = json.loads((self.folder / "live.json").read_text(encoding="utf-8"))
        unknown = raw.keys() - LIVE_KEYS
        assert not unknown, f"{self.folder.name}/live.json: unknown keys {sorted(unknown)}"
        live = normalise(
            parse_info(raw["info"], endpoint=raw["endpoint"], api_version=raw["api_version"]),
            parse_volume_list(raw["volumes"]),
            parse_container_list(raw["containers"]),
            parse_image_list(raw["images"]) if "images" in raw else None,
        )
        inspected = (parse_image_inspect(answer) for answer in raw.get("image_inspects", ()))
        return replace(live, image_configs={config.id: config for config in inspected})


def plan_case(case: Case) -> Planned:
    """What ``volplan plan`` does once it has read the files and the engine."""
    live = case.live()
    specs = load(case.sources(), policy=DEFAULT_POLICY, endpoint=live.engine.endpoint)
    return plan(complete(specs, live), live, case.options)


def outcome(case: Case) -> dict[str, str]:
    """The golden files this case produces: the rendered plan, or the error it is refused with."""
    try:
        planned = plan_case(case)
    except VolplanError as error:
        return {"error.txt": f"{type(error).__name__}: {error}\n"}
    produced = {"plan.txt": render_plan(planned.plan, planned.observed.engine).plain}
    if (case.folder / "plan.json").exists():
        produced["plan.json"] = dumps(plan_document(planned))
    return produced


def _params() -> list[Any]:
    cases = [Case.read(folder) for folder in sorted(CASES.iterdir()) if folder.is_dir()]
    return [
        pytest.param(
            case,
            id=case.folder.name,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
        )
        for case in cases
    ]


@pytest.mark.parametrize("case", _params())
def test_case(case: Case, request: pytest.FixtureRequest) -> None:
    produced = outcome(case)
    if request.config.getoption("--update-goldens"):
        _update(case, produced)
        return
    expected = {name: _read(case.folder / name) for name in GOLDENS}
    for name in GOLDENS:
        assert produced.get(name) == expected[name], f"{case.folder.name}/{name}: {case.about}"


def _update(case: Case, produced: dict[str, str]) -> None:
    """Write what the case produced; an xfail case's files are the correct ones, kept as written."""
    if case.xfail:
        pytest.skip("an xfail case's expected files are written by hand")
    for name in GOLDENS:
        path = case.folder / name
        if name in produced:
            path.write_text(produced[name], encoding="utf-8")
        else:
            path.unlink(missing_ok=True)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def test_the_corpus_is_complete() -> None:
    """Every case has its inputs and one outcome: a plan or an error, never both."""
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        assert (folder / "live.json").is_file(), folder.name
        assert Case.read(folder).sources(), f"{folder.name}: no spec.yaml or specs/*.yaml"
        outcomes = [n for n in ("plan.txt", "error.txt") if (folder / n).exists()]
        assert len(outcomes) == 1, f"{folder.name}: {outcomes}"
