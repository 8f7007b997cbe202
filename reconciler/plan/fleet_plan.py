"""A fleet's saved plan: ``plan --targets FILE --out PLAN`` writes one, ``apply PLAN`` reads it.

It is the fleet's JSON document (render/fleet.py) with, for each target, the target as
the targets file defined it (``target``) and its saved plan (``plan``, saved_plan.py:
specs, options and the fingerprints of the live resources it was made from). So it names
everything ``apply`` needs, and each target's plan is checked against its engine as a
single saved plan is; one stale target refuses the whole plan (cli/fleet.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from reconciler.errors import PlanFileError, Position
from reconciler.model import TlsFiles
from reconciler.plan.document import FLEET_FORMAT_VERSION
from reconciler.plan.saved_plan import SavedPlan, read_json, saved_plan_of
from reconciler.spec.targets import Target

KIND = "fleet_plan"


def target_document(target: Target) -> dict[str, Any]:
    """How a saved fleet plan records a target: enough to reach its engine again."""
    return {
        "host": target.host,
        "context": target.context,
        "tls": asdict(target.tls) if target.tls is not None else None,
        "labels": dict(target.labels),
        "variables": dict(target.variables),
    }


def is_fleet_plan(path: Path) -> bool:
    """Whether the plan file at ``path`` is a fleet's (else it is one engine's, or broken)."""
    document = read_json(path)
    return isinstance(document, dict) and document.get("kind") == KIND


def read_fleet_plan(path: Path) -> list[tuple[Target, SavedPlan]]:
    """Each target of a fleet's saved plan with its plan, in the file's order."""
    document = read_json(path)
    version = str(document.get("format_version", "")) if isinstance(document, dict) else ""
    if not version.startswith(FLEET_FORMAT_VERSION.split(".", maxsplit=1)[0] + "."):
        raise PlanFileError(
            f"{path}: fleet plan format_version {version!r} is not supported by this volplan; "
            "re-plan"
        )
    targets = document.get("targets")
    if not isinstance(targets, dict) or not targets:
        raise PlanFileError(f"{path}: not a usable fleet plan file: it names no target")
    return [_entry(path, name, entry) for name, entry in targets.items()]


def _entry(path: Path, name: str, entry: Any) -> tuple[Target, SavedPlan]:
    try:
        recorded: Mapping[str, Any] = entry["target"]
        tls = recorded["tls"]
        target = Target(
            name=name,
            host=recorded["host"],
            context=recorded["context"],
            origin=Position(str(path), 1, 1),
            tls=TlsFiles(**tls) if tls is not None else None,
            labels=dict(recorded["labels"]),
            variables=dict(recorded["variables"]),
        )
        plan = entry["plan"]
    except (KeyError, TypeError) as exc:
        raise PlanFileError(
            f"{path}: not a usable fleet plan file: target {name}: {exc}; re-plan"
        ) from None
    return target, saved_plan_of(path, plan)
