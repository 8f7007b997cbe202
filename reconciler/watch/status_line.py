"""The watch's machine-readable status: one JSON object on one line of stdout. Pure.

Printed after every full sync and every heal. ``volplan fleet-status`` reads each node's
latest line from ``docker service logs``, so the format is a contract: ``kind`` and
``version`` say what a line is, and a change of meaning takes a new version.

    {"kind": "volplan.watch.status", "version": 1, "time": "2026-12-01T23:50:01Z",
     "target": "default", "engine": {"id": "...", "name": "node-1", "labels": {...},
     "node_id": null}, "last_sync": "2026-12-01T23:50:01Z", "in_sync": false,
     "drift": {"shop": 1}, "applies": 2, "failures": 0}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler import labels
from reconciler.diff.drift import DriftEntry, DriftReport
from reconciler.identity import ResourceKind
from reconciler.live.fleet_reports import STATUS_KIND, STATUS_VERSION
from reconciler.model import DesiredState, EngineInfo, LiveState

KIND, VERSION = STATUS_KIND, STATUS_VERSION
"""What the line is: the reader of the lines (live/fleet_reports.py) holds the definition."""
DEFAULT_TARGET = "default"
"""The target's name when the watch runs without a targets file."""


@dataclass(frozen=True)
class WatchStatus:
    target: str
    engine: EngineInfo
    last_sync: float
    """Unix time of the last full sync."""
    drift: Mapping[str, int]
    """Drifted resources per project, every project of the specs listed."""
    applies: int
    failures: int

    @property
    def in_sync(self) -> bool:
        return not any(self.drift.values())


def status_line(status: WatchStatus, now: float) -> str:
    """The status as one line of compact JSON, keys in a fixed order, ending in a newline."""
    engine = status.engine
    document = {
        "kind": KIND,
        "version": VERSION,
        "time": iso_time(now),
        "target": status.target,
        "engine": {
            "id": engine.daemon_id,
            "name": engine.name,
            "labels": dict(sorted(engine.labels.items())),
            "node_id": engine.node_id,
        },
        "last_sync": iso_time(status.last_sync),
        "in_sync": status.in_sync,
        "drift": dict(sorted(status.drift.items())),
        "applies": status.applies,
        "failures": status.failures,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n"


def iso_time(seconds: float) -> str:
    """ISO 8601 in UTC, to the second, with a ``Z``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def drift_by_project(report: DriftReport, desired: DesiredState, live: LiveState) -> dict[str, int]:
    """How many of the report's drifted resources each project has; every project listed."""
    counts = dict.fromkeys(desired.projects, 0)
    for entry in report.drifted:
        project = project_of(entry, desired, live)
        if project is not None:
            counts[project] = counts.get(project, 0) + 1
    return counts


def project_of(entry: DriftEntry, desired: DesiredState, live: LiveState) -> str | None:
    """The project a finding belongs to: the declaring spec's, else the project label of
    the resource, else (a container nobody manages) that of a volume it mounts."""
    if entry.kind is ResourceKind.VOLUME:
        declared = desired.volumes.get(entry.name)
        if declared is not None:
            return declared.project
        volume = live.volumes.get(entry.name)
        return volume.labels.get(labels.PROJECT) if volume is not None else None
    wanted = desired.containers.get(entry.name)
    if wanted is not None:
        return wanted.project
    container = live.containers.get(entry.name)
    if container is None:
        return None
    if labels.PROJECT in container.labels:
        return container.labels[labels.PROJECT]
    for mount in container.mounts:
        if mount.name is not None and mount.name in desired.volumes:
            return desired.volumes[mount.name].project
    return None
