"""``volplan fleet-status``: one row per node of a Swarm service of agents. Pure.

The rows are the nodes' own latest status lines (``live.fleet_reports``), shown as the
agents wrote them; nothing here asks a node anything.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from reconciler import __version__
from reconciler.live.fleet_reports import FleetReports, NodeReport
from reconciler.render.words import counted

FORMAT_VERSION = "1.0"
COLUMNS = ("NODE", "ENGINE", "LABELS", "LAST SYNC", "STATE", "DRIFT", "APPLIES", "FAILURES")
NODE_ID_CHARS = 12
"""Swarm node IDs are 25 characters; 12 tell them apart, as ``docker node ls`` shows."""


def render_fleet_status(service: str, reports: FleetReports) -> Text:
    """A summary line, the table, then what drifted on each drifted node."""
    nodes = reports.nodes
    text = Text(
        f"Service {service}: {counted(len(nodes), 'node')} reporting, "
        f"{len(reports.drifted)} drifted\n"
    )
    rows = [COLUMNS, *(_row(n) for n in nodes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for index, row in enumerate(rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        style = "bold" if index == 0 else ("yellow" if not nodes[index - 1].in_sync else "")
        text.append(line.rstrip() + "\n", style=style)
    for node in reports.drifted:
        drifted = sorted((p, count) for p, count in node.drift.items() if count)
        projects = ", ".join(f"{p} ({count})" for p, count in drifted)
        text.append(f"{node.node_id[:NODE_ID_CHARS]} drifted in: {projects or 'unknown'}\n")
    if reports.unreadable:
        text.append(
            f"{counted(reports.unreadable, 'status line')} of another format ignored "
            "(an agent of another volplan version?)\n",
            style="dim",
        )
    return text


def _row(node: NodeReport) -> tuple[str, ...]:
    labels = ",".join(f"{k}={v}" for k, v in sorted(node.engine_labels.items())) or "-"
    return (
        node.node_id[:NODE_ID_CHARS],
        node.engine_name or "-",
        labels,
        node.last_sync or "never",
        "in sync" if node.in_sync else "drift",
        str(node.drift_count),
        str(node.applies),
        str(node.failures),
    )


def fleet_status_document(service: str, reports: FleetReports) -> dict[str, Any]:
    """The same as JSON, versioned like volplan's other documents (a minor bump adds keys)."""
    return {
        "format_version": FORMAT_VERSION,
        "volplan_version": __version__,
        "kind": "fleet-status",
        "service": service,
        "in_sync": not reports.drifted,
        "nodes": [_node_document(n) for n in reports.nodes],
        "unreadable_status_lines": reports.unreadable,
    }


def _node_document(node: NodeReport) -> dict[str, Any]:
    return {
        "node_id": node.node_id,
        "task_id": node.task_id,
        "reported_at": node.logged_at,
        "engine_name": node.engine_name,
        "engine_labels": dict(node.engine_labels),
        "last_sync": node.last_sync,
        "in_sync": node.in_sync,
        "drift": dict(node.drift),
        "drift_count": node.drift_count,
        "applies": node.applies,
        "failures": node.failures,
    }
