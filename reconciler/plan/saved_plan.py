"""The saved plan file's format: ``plan --out FILE`` writes one, ``apply FILE`` reads it. Pure.

The file is the plan's JSON document (document.py) plus what it was made from: the spec
files (names and text), the spec folder as given, and a ``timestamp``. Reading it checks
only the file itself (its version, shape, and that the embedded specs still hash to its
``spec_digest``); whether it still holds against the engine is apply/replan.py's job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reconciler.errors import PlanFileError
from reconciler.identity import Address
from reconciler.live.fingerprint import spec_digest
from reconciler.plan.document import PLAN_FORMAT_VERSION, PlanRecord, dumps, plan_document
from reconciler.plan.options import PlanOptions
from reconciler.spec.files import SpecSource

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

    format_version: str = Field(pattern=r"^[0-9]+\.[0-9]+$")
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
    fingerprints: Mapping[Address, str]
    spec_dir: str
    timestamp: str


def saved_plan_text(planned: PlanRecord, sources: Sequence[SpecSource], spec_dir: Path) -> str:
    """The file ``plan --out`` writes: the plan document, its specs and when it was made."""
    document = plan_document(planned)
    document["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    document["spec_dir"] = str(spec_dir)
    document["sources"] = [
        {"name": s.display_name, "folder": s.folder, "text": s.raw.decode("utf-8")} for s in sources
    ]
    return dumps(document)


def read_saved_plan(path: Path) -> SavedPlan:
    """Load a plan file, or raise one ``PlanFileError`` saying what is wrong with it."""
    return saved_plan_of(path, read_json(path))


def saved_plan_of(path: Path, document: Any) -> SavedPlan:
    """The saved plan ``document`` read from ``path`` (all of it, or a fleet plan's part)."""
    if not isinstance(document, dict) or document.get("kind") != "plan":
        raise PlanFileError(f"{path}: not a volplan plan file")
    version = str(document.get("format_version", ""))
    major = PLAN_FORMAT_VERSION.split(".")[0]
    if not version.startswith(major + "."):
        raise PlanFileError(
            f"{path}: plan format_version {version!r} is not supported by this volplan "
            f"(it reads {major}.x); re-plan"
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
        fingerprints=_fingerprints(path, header.live_state.resources),
        spec_dir=header.spec_dir,
        timestamp=header.timestamp,
    )


def _fingerprints(path: Path, resources: Mapping[str, str]) -> dict[Address, str]:
    try:
        return {Address.parse(address): digest for address, digest in resources.items()}
    except ValueError as exc:
        raise PlanFileError(f"{path}: not a usable volplan plan file: live_state: {exc}") from None


def read_json(path: Path) -> Any:
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
