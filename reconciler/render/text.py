"""The human-readable plan: one line per action, its field changes, and a summary. Pure.

Returns rich ``Text``; the CLI's console decides whether styles become colours (only on a
terminal, never with ``NO_COLOR``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from rich.text import Text

from reconciler.fieldpath import format_path
from reconciler.identity import VERBS
from reconciler.model import EngineInfo
from reconciler.plan.actions import (
    Action,
    CreateContainer,
    Plan,
    RecreateContainer,
    Safety,
    describe,
)
from reconciler.render.words import counted

_STYLES = {"+": "green", "~": "yellow", "-": "red", "!": "bold red", "=": "cyan"}


def render_plan(plan: Plan, engine: EngineInfo, *, allow_data_loss: bool = False) -> Text:
    """``allow_data_loss``: the run was given --allow-data-loss, so the summary does not ask
    for it."""
    text = Text()
    text.append(
        f"Plan for {engine.endpoint} (Docker {engine.server_version}, API {engine.api_version})\n\n"
    )
    text.append_text(render_adopted(plan))
    for action in plan.actions:
        text.append_text(render_action(action))
    if not plan.actions:
        matched = counted(len(plan.unchanged) + len(plan.adopted), "resource")
        gap = "\n" if plan.adopted else ""
        text.append(
            f"{gap}No changes. The engine matches the specs "
            f"({matched}{_adopted_count(plan, ', ')}).\n",
            style="green",
        )
    else:
        text.append("\n")
        text.append_text(render_summary(plan, allow_data_loss=allow_data_loss))
    for note in plan.notes:
        text.append(f"Note: {note.address}: {note.message}\n", style="yellow")
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
            f"      {format_path(change.path)}: {show_value(change.before)} -> "
            f"{show_value(change.after)}\n"
        )
    line.append(_image_volumes(action), style="dim")
    return line


def render_adopted(plan: Plan) -> Text:
    """The volumes the plan adopts as they are: no action, but a reader must see them, since
    volplan now relies on what it did not create (and will never prune)."""
    text = Text()
    for adopted in plan.adopted:
        text.append(f"= {'adopt':<8} {adopted.address}", style=_STYLES["="])
        text.append(f"\n      {adopted.reason}\n", style="dim")
    return text


def _adopted_count(plan: Plan, separator: str) -> str:
    if not plan.adopted:
        return ""
    return f"{separator}{counted(len(plan.adopted), 'volume')} adopted as is"


def _image_volumes(action: Action) -> str:
    """The volumes a container gets for the paths its image declares, and whether each is
    made now or kept (with its data) from the container being replaced; an adoption lists
    its other anonymous volumes too, since they are what it must not lose."""
    if not isinstance(action, CreateContainer | RecreateContainer):
        return ""
    adopting = isinstance(action, RecreateContainer) and action.adopt
    name = action.container.name
    return "".join(
        f"      {name}:{volume.target} ({'image' if volume.from_image else 'anonymous'} volume): "
        + (f"keeps volume {volume.name[:12]}\n" if volume.exists else "new volume\n")
        for volume in action.anonymous
        if volume.from_image or adopting
    )


def render_summary(plan: Plan, *, allow_data_loss: bool = False) -> Text:
    counts = plan.counts()
    parts = [f"{n} to {VERBS[kind].text}" for kind, n in counts.items() if n]
    adopted = _adopted_count(plan, "; ")
    summary = Text(
        f"Plan: {', '.join(parts)}{adopted}; {len(plan.unchanged)} unchanged.\n", style="bold"
    )
    if plan.destructive:
        one = len(plan.destructive) == 1
        destroy = f"{counted(len(plan.destructive), 'action')} destroy{'s' if one else ''} data"
        if allow_data_loss:
            summary.append(f"{destroy} (allowed by --allow-data-loss).\n", style="bold red")
        else:
            need = "needs" if one else "need"
            summary.append(f"{destroy} and {need} --allow-data-loss.\n", style="bold red")
    return summary


class ActionOutcome(Protocol):
    """One applied action's result, as the applier reports it (apply/applier.py)."""

    @property
    def action(self) -> Action: ...

    @property
    def seconds(self) -> float: ...

    @property
    def error(self) -> str | None: ...

    @property
    def ok(self) -> bool: ...

    @property
    def fatal(self) -> bool: ...


class ApplyOutcome(Protocol):
    """What an apply did and did not do (apply/applier.py ``ApplyReport``)."""

    @property
    def done(self) -> Sequence[ActionOutcome]: ...

    @property
    def failed(self) -> ActionOutcome | None: ...

    @property
    def also_failed(self) -> Sequence[ActionOutcome]: ...

    @property
    def not_done(self) -> Sequence[Action]: ...


def render_result(result: ActionOutcome) -> Text:
    shown = describe(result.action)
    if result.ok:
        return Text(f"{shown.symbol} {shown.verb} {shown.address}: done ({result.seconds:.1f}s)")
    return Text(f"! {shown.verb} {shown.address}: FAILED: {result.error}", style="bold red")


def render_report(report: ApplyOutcome) -> Text:
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
