"""Machine-readable documents: the plan and the drift report as versioned JSON. Pure.

The plan is shaped after Terraform's ``show -json`` so pipeline authors recognise it.
``format_version`` follows Terraform's rule: a minor bump only adds keys (consumers must
ignore keys they do not know), a major bump breaks (consumers must reject it). Output is
deterministic: sorted keys, no timestamps; the same specs and live state give the same
bytes. The schemas are in ``reconciler/schemas/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from reconciler import __version__
from reconciler.errors import Position
from reconciler.live.fingerprint import live_digest
from reconciler.model import DesiredState, EngineInfo, LiveState
from reconciler.plan.actions import Action, Change, Plan, Safety, action_key, describe

if TYPE_CHECKING:
    from reconciler.diff.drift import DriftEntry, DriftReport
    from reconciler.live.status import Topology, Use
    from reconciler.plan.planner import PlanOptions

FORMAT_VERSION = "1.0"

TERRAFORM_ACTIONS = {
    "create": ["create"],
    "replace": ["delete", "create"],
    "recreate": ["create", "delete"],
    "remove": ["delete"],
    "start": ["update"],
    "stop": ["update"],
    "copy": ["update"],
    "backup": ["read"],
    "finish": ["delete"],
    "roll back": ["update"],
}
"""volplan verbs in Terraform's action vocabulary; a recreate makes the new container
before it removes the old one, hence create-before-delete."""


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class PlanRecord(Protocol):
    """What the plan document is made of (``pipeline.Planned`` is one)."""

    @property
    def desired(self) -> DesiredState: ...

    @property
    def live(self) -> LiveState: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def options(self) -> PlanOptions: ...

    @property
    def spec_digest(self) -> str: ...

    @property
    def observed(self) -> Mapping[str, str]: ...


def plan_document(planned: PlanRecord) -> dict[str, Any]:
    plan, observed = planned.plan, planned.observed
    return {
        **_header("plan", planned.live.engine, planned.desired.projects),
        "options": {
            "prune": planned.options.prune,
            "allow_data_loss": planned.options.allow_data_loss,
            "migrate": planned.options.migrate,
            "backup_dir": planned.options.backup_dir,
            "helper_image": planned.options.helper_image,
        },
        "spec_digest": planned.spec_digest,
        "live_state": {"digest": live_digest(observed), "resources": dict(observed)},
        "summary": {
            **plan.counts(),
            "total": len(plan.actions),
            "destructive": len(plan.destructive),
        },
        "resource_changes": [_resource_change(a) for a in plan.actions],
        "unchanged": [_address_and_reason(line) for line in plan.unchanged],
        "notes": [_address_and_reason(line) for line in plan.notes],
    }


def _header(kind: str, engine: EngineInfo, projects: Sequence[str]) -> dict[str, Any]:
    """What every document starts with: its version, kind, engine and projects."""
    return {
        "format_version": FORMAT_VERSION,
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
    kind, _, name = shown.address.partition(".")
    return {
        "key": action_key(action),
        "address": shown.address,
        "type": kind,
        "name": name,
        "verb": shown.verb,
        "change": {
            "actions": TERRAFORM_ACTIONS[shown.verb],
            "fields": [_field(c) for c in action.changes],
        },
        "reason": action.reason,
        "safety": shown.safety.value,
        "destructive": shown.safety is Safety.DESTROYS_DATA,
        "spec": position_document(action.origin),
        "requires": list(action.requires),
    }


def _field(change: Change) -> dict[str, Any]:
    return {"path": change.path, "before": change.before, "after": change.after}


def position_document(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"file": position.file, "line": position.line, "column": position.column}


def _address_and_reason(line: str) -> dict[str, str]:
    address, _, reason = line.partition(": ")
    return {"address": address, "reason": reason}


def drift_document(report: DriftReport) -> dict[str, Any]:
    return {
        **_header("drift", report.engine, report.projects),
        "in_sync": report.in_sync,
        "summary": report.counts(),
        "resources": [_drift_entry(e) for e in report.entries],
    }


def _drift_entry(entry: DriftEntry) -> dict[str, Any]:
    return {
        "address": entry.address,
        "type": entry.kind,
        "name": entry.name,
        "status": entry.status.value,
        "reason": entry.reason,
        "destructive_fix": entry.destructive_fix,
        "fields": [{"path": c.path, "live": c.before, "desired": c.after} for c in entry.changes],
        "spec": position_document(entry.origin),
    }


def status_document(topology: Topology) -> dict[str, Any]:
    return {
        **_header("status", topology.engine, topology.projects),
        "volumes": [
            {
                "name": v.name,
                "driver": v.driver,
                "mountpoint": v.mountpoint,
                "size": v.size,
                "project": v.project,
                "protected": v.protected,
                "image_volume": v.image_volume,
                "users": [_use(u) for u in v.users],
            }
            for v in topology.volumes
        ],
        "data_containers": [
            {
                "name": d.name,
                "status": d.status,
                "mounts": [{"source": m.source, "target": m.target} for m in d.mounts],
                "users": [{"container": c, "mode": mode} for c, mode in d.users],
            }
            for d in topology.data_containers
        ],
        "binds": [
            {"host_path": b.host_path, "users": [_use(u) for u in b.users]} for b in topology.binds
        ],
        "dangling_volumes": list(topology.dangling),
    }


def _use(use: Use) -> dict[str, Any]:
    return {
        "container": use.container,
        "target": use.target,
        "read_only": use.read_only,
        "via_volumes_from": use.via,
    }
