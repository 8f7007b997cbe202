"""The drift report for a person at a terminal, and its one-line summary. Pure.

Returns rich ``Text``; the console decides whether styles become colours.
"""

from __future__ import annotations

from rich.text import Text

from reconciler.diff.drift import DriftEntry, DriftReport, DriftStatus
from reconciler.fieldpath import format_path
from reconciler.render.text import show_value
from reconciler.render.words import counted

_SYMBOLS = {
    DriftStatus.CHANGED: ("~", "yellow"),
    DriftStatus.MISSING: ("+", "yellow"),
    DriftStatus.NOT_IN_SPECS: ("-", "red"),
    DriftStatus.UNMANAGED_USER: ("?", "yellow"),
    DriftStatus.DANGLING: ("?", "dim"),
    DriftStatus.IN_SYNC: ("=", "green"),
}


def render_drift(report: DriftReport) -> Text:
    engine = report.engine
    text = Text(
        f"Drift report for {engine.endpoint} (Docker {engine.server_version}, "
        f"API {engine.api_version}), projects: {', '.join(report.projects)}\n\n"
    )
    for entry in report.entries:
        text.append_text(_entry(entry))
    if report.unclaimed:
        text.append(f"\n{_unclaimed_heading(report)}:\n")
        for entry in report.unclaimed:
            text.append_text(_entry(entry))
    text.append("\n")
    text.append_text(render_drift_summary(report))
    return text


def render_drift_summary(report: DriftReport) -> Text:
    counts = report.counts()
    if report.in_sync:
        verb = "matches" if counts["total"] == 1 else "match"
        summary = Text(
            f"No drift: {counted(counts['total'], 'resource')} {verb} the specs.", style="green"
        )
    else:
        parts = [f"{n} {status}" for status, n in counts.items() if n and status != "total"]
        summary = Text(
            f"Drift: {len(report.drifted)} of {counted(counts['total'], 'resource')} "
            f"({', '.join(parts)}).",
            style="bold yellow",
        )
    if report.unclaimed and not report.include_unclaimed:
        summary.append(f" {_unclaimed_heading(report)}.")
    return summary.append("\n")


def _unclaimed_heading(report: DriftReport) -> str:
    """Names the section and, when it does not count, how to make it count."""
    found = counted(len(report.unclaimed), "unclaimed dangling volume")
    if report.include_unclaimed:
        return f"{found}, counted as drift (--include-unclaimed)"
    return f"{found}, not drift (--include-unclaimed counts them)"


def _entry(entry: DriftEntry) -> Text:
    symbol, style = _SYMBOLS[entry.status]
    line = Text()
    line.append(f"{symbol} {entry.status.value:<14} {entry.address}", style=style)
    if entry.destructive_fix:
        line.append("  [fix destroys data]", style="bold red")
    if entry.origin is not None:
        line.append(f"  ({entry.origin.file}:{entry.origin.line})", style="dim")
    if entry.status is DriftStatus.IN_SYNC:
        return line.append("\n")
    line.append(f"\n      {entry.reason}\n", style="dim")
    for change in entry.changes:
        line.append(
            f"      {format_path(change.path)}: live {show_value(change.before)}, "
            f"spec {show_value(change.after)}\n"
        )
    return line
