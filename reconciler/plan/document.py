"""The plan as a versioned JSON document: ``plan --format json``, and a saved plan's body. Pure.

The document is shaped after Terraform's ``show -json`` so pipeline authors recognise it.
``format_version`` follows Terraform's rule: a minor bump only adds keys (consumers must
ignore keys they do not know), a major bump breaks (consumers must reject it). Output is
deterministic: sorted keys, no timestamps; the same specs and live state give the same
bytes. It lives in the plan stage, not with the renderers, because it is also the saved
plan file's format, which the apply side reads back (saved_plan.py). The schema is
``reconciler/schemas/plan.schema.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from reconciler import __version__
from reconciler.errors import Position
from reconciler.fieldpath import format_path
from reconciler.identity import VERBS, Address
from reconciler.live.fingerprint import live_digest
from reconciler.model import Change, DesiredState, EngineInfo, LiveState
from reconciler.plan.actions import Action, Plan, Safety, describe
from reconciler.plan.options import PlanOptions

FLEET_FORMAT_VERSION = "1.0"
"""Of the fleet documents (render/fleet.py, fleet_plan.py); each target's own document
keeps its version (plan, drift). Here, with the plan's, as the saved plans' layer reads it."""
PLAN_FORMAT_VERSION = "2.1"
"""2.1: ``adopted`` (volumes volplan did not create, used as is) and the ``adopt`` kind.
2.0: summary keys are identifiers (``roll_back``, not ``roll back``), as are the kinds in
action keys (``container.web:roll_back``); a renamed key breaks consumers, hence a major."""


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class PlanRecord(Protocol):
    """What the plan document is made of (``pipeline.Planned`` is one)."""

    @property
    def desired(self) -> DesiredState: ...

    @property
    def observed(self) -> LiveState: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def options(self) -> PlanOptions: ...

    @property
    def spec_digest(self) -> str: ...

    @property
    def fingerprints(self) -> Mapping[Address, str]: ...


def plan_document(planned: PlanRecord) -> dict[str, Any]:
    plan, fingerprints = planned.plan, planned.fingerprints
    return {
        **header("plan", PLAN_FORMAT_VERSION, planned.observed.engine, planned.desired.projects),
        "options": {
            "prune": planned.options.prune,
            "allow_data_loss": planned.options.allow_data_loss,
            "migrate": planned.options.migrate,
            "backup_dir": planned.options.backup_dir,
            "helper_image": planned.options.helper_image,
        },
        "spec_digest": planned.spec_digest,
        "live_state": {
            "digest": live_digest(fingerprints),
            "resources": {str(address): digest for address, digest in fingerprints.items()},
        },
        "summary": {
            **{kind.value: n for kind, n in plan.counts().items()},
            "total": len(plan.actions),
            "destructive": len(plan.destructive),
        },
        "resource_changes": [_resource_change(a) for a in plan.actions],
        "unchanged": [_address_and_reason(n.address, n.reason) for n in plan.unchanged],
        "notes": [_address_and_reason(n.address, n.message) for n in plan.notes],
        "adopted": [_address_and_reason(n.address, n.reason) for n in plan.adopted],
    }


def header(kind: str, version: str, engine: EngineInfo, projects: Sequence[str]) -> dict[str, Any]:
    """What every document starts with: its version, kind, engine and projects."""
    return {
        "format_version": version,
        "volplan_version": __version__,
        "kind": kind,
        "engine": engine_document(engine),
        "projects": list(projects),
    }


def engine_document(engine: EngineInfo) -> dict[str, Any]:
    return {
        "endpoint": engine.endpoint,
        "daemon_id": engine.daemon_id,
        "name": engine.name,
        "server_version": engine.server_version,
        "api_version": engine.api_version,
    }


def _resource_change(action: Action) -> dict[str, Any]:
    shown = describe(action)
    return {
        "key": str(shown.key),
        "address": str(shown.address),
        "type": shown.address.kind.value,
        "name": shown.address.name,
        "verb": shown.verb,
        "change": {
            "actions": list(VERBS[shown.kind].terraform),
            "fields": [_field(c) for c in action.changes],
        },
        "reason": action.reason,
        "safety": shown.safety.value,
        "destructive": shown.safety is Safety.DESTROYS_DATA,
        "spec": position_document(action.origin),
        "requires": [str(key) for key in action.requires],
    }


def _field(change: Change) -> dict[str, Any]:
    return {"path": format_path(change.path), "before": change.before, "after": change.after}


def position_document(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"file": position.file, "line": position.line, "column": position.column}


def _address_and_reason(address: Address, reason: str) -> dict[str, str]:
    return {"address": str(address), "reason": reason}
