"""Machine-readable reports: the drift report and the topology as versioned JSON. Pure.

Same rules as the plan document (plan/document.py, which also provides the shared
header): a minor ``format_version`` bump only adds keys, a major one breaks; output is
deterministic. The schemas are in ``reconciler/schemas/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.fieldpath import format_path
from reconciler.plan.document import header, position_document

if TYPE_CHECKING:
    from reconciler.diff.drift import DriftEntry, DriftReport
    from reconciler.live.status import Topology, Use

FORMAT_VERSION = "1.1"
"""Of the drift and status documents; the plan document has its own (plan/document.py)."""


def drift_document(report: DriftReport) -> dict[str, Any]:
    return {
        **header("drift", FORMAT_VERSION, report.engine, report.projects),
        "in_sync": report.in_sync,
        "include_unclaimed": report.include_unclaimed,
        "summary": report.counts(),
        "resources": [_drift_entry(e) for e in report.entries],
        "unclaimed": [_drift_entry(e) for e in report.unclaimed],
    }


def _drift_entry(entry: DriftEntry) -> dict[str, Any]:
    return {
        "address": str(entry.address),
        "type": entry.kind.value,
        "name": entry.name,
        "status": entry.status.value,
        "reason": entry.reason,
        "destructive_fix": entry.destructive_fix,
        "fields": [
            {"path": format_path(c.path), "live": c.before, "desired": c.after}
            for c in entry.changes
        ],
        "spec": position_document(entry.origin),
    }


def status_document(topology: Topology) -> dict[str, Any]:
    return {
        **header("status", FORMAT_VERSION, topology.engine, topology.projects),
        "volumes": [
            {
                "name": v.name,
                "driver": v.driver,
                "mountpoint": v.mountpoint,
                "size": v.size,
                "project": v.project,
                "adopted_by": v.adopted_by,
                "protected": v.protected,
                "anonymous_of": v.owner,
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
