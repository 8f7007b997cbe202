"""Saved plans: ``plan --out FILE`` writes one; ``apply FILE`` applies exactly it, or refuses.

The file is the plan's JSON document plus what it was made from: the spec files (names
and text), the spec folder as given, and a ``timestamp``. Applying re-runs the pure
pipeline on the embedded specs against a fresh read of the engine and refuses, changing
nothing, unless all of these hold:

- the embedded specs still hash to the recorded ``spec_digest`` (the file is not edited);
- the engine is the one the plan was made against (same daemon ID);
- the spec folder on disk still holds the very same specs;
- the live resources the plan depends on are unchanged (``live_state``, fingerprint.py);
- the recomputed plan equals the saved one, action for action.

That is Terraform's stale-plan rule, without its hole: absence is fingerprinted too, so a
plan made against an empty engine cannot be applied twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.cli.output_file import write_output
from reconciler.engine.base import Engine
from reconciler.errors import PlanFileError, SpecError, StalePlanError
from reconciler.live.fingerprint import changed_addresses, live_fingerprints, spec_digest
from reconciler.live.reader import read_live_state
from reconciler.model import DesiredState, LiveState
from reconciler.pipeline import Planned, plan_state, with_images
from reconciler.plan.planner import PlanOptions
from reconciler.render.json import FORMAT_VERSION, dumps, plan_document
from reconciler.spec.files import SpecSource, read_spec_dir
from reconciler.spec.loader import build_desired_state

SAVED_ONLY_KEYS = ("timestamp", "spec_dir", "sources")
"""Keys a saved plan adds to the plan document; ``timestamp`` is the only one that varies
between two saves of the same plan."""


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)


class _Source(_Model):
    name: str
    folder: str
    text: str


class _Options(_Model):
    prune: bool
    allow_data_loss: bool
    migrate: bool = False
    backup_dir: str | None = None
    helper_image: str | None = None


class _LiveState(_Model):
    digest: str
    resources: dict[str, str]


class _Engine(_Model):
    endpoint: str
    daemon_id: str


class _Header(_Model):
    """What apply needs from a saved plan; the rest is compared as a whole."""

    model_config = ConfigDict(strict=True, frozen=True, extra="allow")

    format_version: str = Field(pattern=r"^1\.[0-9]+$")
    kind: Literal["plan"]
    engine: _Engine
    projects: list[str]
    options: _Options
    spec_digest: str
    live_state: _LiveState
    spec_dir: str
    timestamp: str
    sources: list[_Source] = Field(min_length=1)


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    document: dict[str, Any]
    sources: tuple[SpecSource, ...]
    options: PlanOptions
    projects: tuple[str, ...]
    daemon_id: str
    endpoint: str
    observed: Mapping[str, str]
    spec_dir: str
    timestamp: str


def write_saved_plan(path: Path, planned: Planned, spec_dir: Path) -> None:
    document = plan_document(planned)
    document["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    document["spec_dir"] = str(spec_dir)
    document["sources"] = [
        {"name": s.display_name, "folder": s.folder, "text": s.raw.decode("utf-8")}
        for s in planned.sources
    ]
    write_output(path, dumps(document), private=True)


def read_saved_plan(path: Path) -> SavedPlan:
    """Load a plan file, or raise one ``PlanFileError`` saying what is wrong with it."""
    document = _read_json(path)
    if not isinstance(document, dict) or document.get("kind") != "plan":
        raise PlanFileError(f"{path}: not a volplan plan file")
    version = str(document.get("format_version", ""))
    if not version.startswith(FORMAT_VERSION.split(".")[0] + "."):
        raise PlanFileError(
            f"{path}: plan format_version {version!r} is not supported by this volplan "
            f"(it reads {FORMAT_VERSION.split('.')[0]}.x); re-plan"
        )
    try:
        header = _Header.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PlanFileError(
            f"{path}: not a usable volplan plan file: {where}: {first['msg']}"
        ) from None
    sources = tuple(SpecSource(s.name, s.folder, s.text.encode("utf-8")) for s in header.sources)
    if spec_digest(sources) != header.spec_digest:
        raise PlanFileError(
            f"{path}: the plan file was modified: its embedded specs do not match its "
            "spec_digest; re-plan"
        )
    return SavedPlan(
        path=path,
        document=document,
        sources=sources,
        options=PlanOptions(**header.options.model_dump()),
        projects=tuple(header.projects),
        daemon_id=header.engine.daemon_id,
        endpoint=header.engine.endpoint,
        observed=header.live_state.resources,
        spec_dir=header.spec_dir,
        timestamp=header.timestamp,
    )


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read the plan file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{path}: not a volplan plan file (not UTF-8 text)") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{path}:{exc.lineno}:{exc.colno}: not a valid plan file, the JSON is broken "
            f"({exc.msg}); was it truncated or edited?"
        ) from None


def replan_saved(saved: SavedPlan, engine: Engine) -> Planned:
    """The saved plan recomputed now, if it still holds; else ``StalePlanError``."""
    desired = _embedded_state(saved)
    _check_spec_dir(saved)
    desired, live = with_images(engine, desired, read_live_state(engine))
    _check_engine(saved, live)
    _check_live_state(saved, live_fingerprints(desired, live))
    planned = plan_state(saved.sources, desired, live, saved.options)
    _check_same_plan(saved, planned)
    return planned


def _embedded_state(saved: SavedPlan) -> DesiredState:
    try:
        desired = build_desired_state(list(saved.sources))
    except SpecError as exc:
        raise PlanFileError(f"{saved.path}: its embedded specs are invalid: {exc}") from None
    if desired.projects != saved.projects:
        raise PlanFileError(f"{saved.path}: the plan file was modified: projects do not match")
    return desired


def _check_spec_dir(saved: SavedPlan) -> None:
    folder = Path(saved.spec_dir)
    if not folder.is_dir():
        raise StalePlanError(
            f"the plan in {saved.path} was made from the specs in {saved.spec_dir!r}, which is "
            "not found here; apply it from the folder it was made in"
        )
    current = read_spec_dir(folder)
    if spec_digest(current) == spec_digest(saved.sources):
        return
    projects = _projects_of(current)
    if projects is not None and projects != saved.projects:
        raise PlanFileError(
            f"{saved.path} is a plan for project(s) {', '.join(saved.projects)}, but "
            f"{saved.spec_dir} holds project(s) {', '.join(projects)}"
        )
    before = {s.display_name: s.raw for s in saved.sources}
    after = {s.display_name: s.raw for s in current}
    files = sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
    raise StalePlanError(
        f"stale plan: the specs changed since {saved.path} was made ({saved.timestamp}): "
        f"{', '.join(files)}; re-plan"
    )


def _projects_of(sources: list[SpecSource]) -> tuple[str, ...] | None:
    try:
        return build_desired_state(sources).projects
    except SpecError:
        return None


def _check_engine(saved: SavedPlan, live: LiveState) -> None:
    if live.engine.daemon_id != saved.daemon_id:
        raise PlanFileError(
            f"{saved.path} was made against another engine ({saved.endpoint}, daemon "
            f"{saved.daemon_id}); this is {live.engine.endpoint} (daemon {live.engine.daemon_id})"
        )


def _check_live_state(saved: SavedPlan, observed: Mapping[str, str]) -> None:
    """Checked before planning, so a changed engine reads as a stale plan, whatever else."""
    changed = changed_addresses(saved.observed, observed)
    if changed:
        raise StalePlanError(
            f"stale plan: the engine changed since {saved.path} was made ({saved.timestamp}): "
            f"{', '.join(changed)}; re-plan"
        )


def _check_same_plan(saved: SavedPlan, planned: Planned) -> None:
    """Everything but the engine's endpoint (checked by daemon ID) must match exactly."""
    ignored = ("engine", *SAVED_ONLY_KEYS)
    recomputed = {k: v for k, v in plan_document(planned).items() if k not in ignored}
    made_by = saved.document.get("volplan_version")
    if made_by != recomputed["volplan_version"]:
        raise StalePlanError(
            f"{saved.path} was made by volplan {made_by}; this is volplan "
            f"{recomputed['volplan_version']}: re-plan"
        )
    recorded = {k: v for k, v in saved.document.items() if k not in ignored}
    if recomputed != recorded:
        keys = sorted(
            k for k in recomputed.keys() | recorded.keys() if recomputed.get(k) != recorded.get(k)
        )
        raise PlanFileError(
            f"{saved.path}: the plan file was modified: {', '.join(keys)} no longer match what "
            "its specs give against this engine; re-plan"
        )
