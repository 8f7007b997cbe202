"""The human-readable plan: one line per action, its field changes, and a summary. Pure.

Returns rich ``Text``; the CLI's console decides whether styles become colours (only on a
terminal, never with ``NO_COLOR``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.text import Text

from reconciler.model import EngineInfo
from reconciler.plan.actions import (
    Action,
    CreateContainer,
    Plan,
    RecreateContainer,
    Safety,
    describe,
)

if TYPE_CHECKING:
    from reconciler.apply.applier import ActionResult, ApplyReport

_STYLES = {"+": "green", "~": "yellow", "-": "red", "!": "bold red"}


def render_plan(plan: Plan, engine: EngineInfo) -> Text:
    text = Text()
    text.append(
        f"Plan for {engine.endpoint} (Docker {engine.server_version}, API {engine.api_version})\n\n"
    )
    if not plan.actions:
        text.append(
            f"No changes. The engine matches the specs ({len(plan.unchanged)} resources).\n",
            style="green",
        )
    else:
        for action in plan.actions:
            text.append_text(render_action(action))
        text.append("\n")
        text.append_text(render_summary(plan))
    for note in plan.notes:
        text.append(f"Note: {note}\n", style="yellow")
    return text


def render_action(action: Action) -> Text:
    shown = describe(action)
    line = Text()
    line.append(f"{shown.symbol} {shown.verb:<8} {shown.address}", style=_STYLES[shown.symbol])
    if shown.safety is not Safety.SAFE:
        line.append(f"  [{shown.safety.value}]", style=_STYLES[shown.symbol])
    if action.origin is not None:
        line.append(f"  ({action.origin.file}:{action.origin.line})", style="dim")
    line.append(f"\n      {action.reason}\n", style="dim")
    for change in action.changes:
        line.append(
            f"      {change.path}: {show_value(change.before)} -> {show_value(change.after)}\n"
        )
    line.append(_image_volumes(action), style="dim")
    return line


def _image_volumes(action: Action) -> str:
    """The volumes a container gets for the paths its image declares, and whether each is
    made now or kept (with its data) from the container being replaced."""
    if not isinstance(action, CreateContainer | RecreateContainer):
        return ""
    name = action.container.name
    return "".join(
        f"      {name}:{volume.target} (image volume): "
        + (f"keeps volume {volume.name[:12]}\n" if volume.exists else "new volume\n")
        for volume in action.anonymous
        if volume.from_image
    )


def render_summary(plan: Plan) -> Text:
    counts = plan.counts()
    parts = [f"{n} to {verb}" for verb, n in counts.items() if n]
    summary = Text(f"Plan: {', '.join(parts)}; {len(plan.unchanged)} unchanged.\n", style="bold")
    if plan.destructive:
        summary.append(
            f"{len(plan.destructive)} action(s) destroy data and need --allow-data-loss.\n",
            style="bold red",
        )
    return summary


def render_result(result: ActionResult) -> Text:
    shown = describe(result.action)
    if result.ok:
        return Text(f"{shown.symbol} {shown.verb} {shown.address}: done ({result.seconds:.1f}s)")
    return Text(f"! {shown.verb} {shown.address}: FAILED: {result.error}", style="bold red")


def render_report(report: ApplyReport) -> Text:
    """What was and was not done, for the end of a failed apply."""
    text = Text()
    text.append(f"Done ({len(report.done)}):\n")
    for result in report.done:
        shown = describe(result.action)
        text.append(f"  {shown.verb} {shown.address}\n")
    if report.failed is not None:
        shown = describe(report.failed.action)
        text.append(f"Failed: {shown.verb} {shown.address}\n", style="bold red")
    for result in report.also_failed:
        shown = describe(result.action)
        text.append(
            f"Also failed: {shown.verb} {shown.address}: {result.error}\n", style="bold red"
        )
    text.append(f"Not done ({len(report.not_done)}):\n")
    for action in report.not_done:
        shown = describe(action)
        text.append(f"  {shown.verb} {shown.address}\n")
    text.append("Run `volplan apply` again once the cause is fixed; it continues from here.\n")
    return text


def show_value(value: Any) -> str:
    """Values as they are written in a spec: strings bare, the rest as JSON (true, null)."""
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
