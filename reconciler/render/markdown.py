"""The drift report as Markdown, for a pull-request or merge-request comment. Pure.

Forges cap a comment's length (GitHub at 65,536 characters), so the report stays under
``MAX_CHARS``: findings a fix would destroy data for come first, then the other drift, and
what does not fit is counted and left to the JSON report. Unclaimed dangling volumes get a
collapsed section of their own: information, unless the report counts them as drift.
"""

from __future__ import annotations

from typing import Any

from reconciler.diff.drift import DriftEntry, DriftReport, DriftStatus
from reconciler.fieldpath import format_path
from reconciler.render.words import counted

MAX_CHARS = 65_000
_FOOTER_ROOM = 400
_UNCLAIMED_CHARS = 8_000


def render_drift_markdown(
    report: DriftReport,
    *,
    json_hint: str,
    title: str = "## volplan drift",
    max_chars: int = MAX_CHARS,
) -> str:
    """``json_hint`` tells the reader how to get the full JSON report (a command or a file).
    A fleet's report gives each target's section its ``title`` and share of the limit."""
    head = _heading(report, title)
    unclaimed = _unclaimed_list(report, min(_UNCLAIMED_CHARS, max_chars // 8))
    if report.in_sync:
        return head + "No drift: the engine matches the specs.\n" + unclaimed
    rows = [_row(e) for e in report.drifted]
    table = "| Resource | Status | Fix destroys data | Details |\n|---|---|---|---|\n"
    shown = 0
    budget = max_chars - _FOOTER_ROOM - len(head) - len(table) - len(unclaimed)
    for row in rows:
        if len(row) > budget:
            break
        table += row
        budget -= len(row)
        shown += 1
    body = head + table
    synced = [e for e in report.entries if e.status is DriftStatus.IN_SYNC]
    in_sync = _in_sync_list(synced)
    if shown == len(rows) and len(in_sync) <= budget:
        body += in_sync
    else:
        left = len(rows) - shown
        body += (
            f"\n{counted(left, 'more drifted resource')} and the {len(synced)} in-sync "
            f"{'one' if len(synced) == 1 else 'ones'} are not shown here, to stay under the "
            f"comment size limit; the full report is in the JSON report: {_code(json_hint)}.\n"
        )
    return body + unclaimed


def _heading(report: DriftReport, title: str) -> str:
    counts = report.counts()
    engine = report.engine
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n and status != "total")
    return (
        f"{title}: {len(report.drifted)} of {counted(counts['total'], 'resource')} "
        "drifted\n\n"
        f"Projects {', '.join(_code(p) for p in report.projects)} on {_code(engine.endpoint)} "
        f"(Docker {cell(engine.server_version)}, daemon {_code(engine.daemon_id)}): "
        f"{summary}.\n\n"
    )


def _row(entry: DriftEntry) -> str:
    details = [cell(entry.reason)]
    details += [
        f"{_code(format_path(c.path))}: live {_value(c.before)} → spec {_value(c.after)}"
        for c in entry.changes
    ]
    if entry.origin is not None:
        details.append(f"spec: {_code(f'{entry.origin.file}:{entry.origin.line}')}")
    destroys = "**yes**" if entry.destructive_fix else "no"
    address = _code(str(entry.address))
    return f"| {address} | {entry.status.value} | {destroys} | {'<br>'.join(details)} |\n"


def _unclaimed_list(report: DriftReport, limit: int) -> str:
    """Unclaimed volumes, collapsed, in at most ``limit`` characters (names only)."""
    if not report.unclaimed or report.include_unclaimed:
        return ""
    items = ""
    for shown, entry in enumerate(report.unclaimed):
        item = f"- {_code(str(entry.address))}\n"
        if len(items) + len(item) > limit:
            items += f"- and {len(report.unclaimed) - shown} more (see the JSON report)\n"
            break
        items += item
    title = counted(len(report.unclaimed), "unclaimed dangling volume")
    return (
        f"\n<details><summary>{title}, not drift (<code>--include-unclaimed</code> counts "
        f"them)</summary>\n\n{items}\n</details>\n"
    )


def _in_sync_list(entries: list[DriftEntry]) -> str:
    if not entries:
        return ""
    items = "".join(f"- {_code(str(e.address))}\n" for e in entries)
    return f"\n<details><summary>In sync ({len(entries)})</summary>\n\n{items}\n</details>\n"


def _value(value: Any) -> str:
    return "(none)" if value is None else _code(str(value))


def _code(text: str) -> str:
    """An inline code span, or escaped text when the value itself holds a backtick."""
    if "`" in text or "\n" in text:
        return cell(text)
    return "`" + text.replace("|", "\\|") + "`"


def cell(text: str) -> str:
    """Text safe inside a table cell: no pipe, newline or HTML tag can break the table."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("|", "\\|").replace("\n", "<br>")
