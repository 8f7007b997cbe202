"""A fleet run's one report: a section per target, then a summary row per target. Pure.

A target is one engine of a targets file. Its result is a plan, a drift report or an
applied plan, or the error that stopped it; one target's error never hides the others'
results. Every format says the same: text (sections, then the summary table), JSON (a
``targets`` map of the single-engine documents, reconciler/schemas/fleet.schema.json),
Markdown (under the forge's comment limit, shared between the targets) and JUnit (one
suite per target), which drift alone writes (fleet_drift.py).

A plan's text report is what a fleet prints most, and what it renders is all it imports:
drift's and the JSON document's renderers are imported where they are used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.text import Text

from reconciler import __version__
from reconciler.identity import VERBS
from reconciler.render.text import ApplyOutcome, render_plan, render_report
from reconciler.render.words import counted
from reconciler.spec.placement import shown_labels

if TYPE_CHECKING:
    from reconciler.diff.drift import DriftReport
    from reconciler.plan.document import PlanRecord


@dataclass(frozen=True)
class TargetResult:
    """One target's part of the run: what it gave, or the error that stopped it."""

    name: str
    endpoint: str
    labels: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    planned: PlanRecord | None = None
    drift: DriftReport | None = None
    applied: ApplyOutcome | None = None

    @property
    def failed(self) -> bool:
        """Unreachable, refused, or an action failed: the run exits 1."""
        return self.error is not None or (
            self.applied is not None and self.applied.failed is not None
        )

    @property
    def pending(self) -> bool:
        """Changes to make or drift found (not once applied): the run exits 2."""
        if self.drift is not None:
            return not self.drift.in_sync
        return self.applied is None and self.planned is not None and bool(self.planned.plan.actions)

    @property
    def elsewhere(self) -> tuple[str, ...]:
        """The projects its labels leave out (placement.py)."""
        return self.planned.desired.elsewhere if self.planned is not None else ()

    def status(self) -> str:
        if self.failed:
            return "failed"
        if self.drift is not None:
            return "drift" if self.pending else "in sync"
        if self.applied is not None:
            return "applied" if self.applied.done else "no changes"
        return "changes" if self.pending else "no changes"

    def detail(self) -> str:
        """The summary row's last cell: the error, or what the result counts."""
        if self.error is not None:
            return self.error
        if self.drift is not None:
            counts = self.drift.counts()
            return f"{len(self.drift.drifted)} of {counted(counts['total'], 'resource')} drifted"
        if self.applied is not None and not (self.applied.done or self.applied.failed):
            return "nothing to apply"
        if self.applied is not None:
            done = counted(len(self.applied.done), "action")
            return f"{done} done" + (", then an action failed" if self.applied.failed else "")
        assert self.planned is not None
        plan = self.planned.plan
        parts = [f"{n} to {VERBS[kind].text}" for kind, n in plan.counts().items() if n]
        return ", ".join(parts) or f"{counted(len(plan.unchanged), 'resource')} unchanged"


def exit_code(results: Sequence[TargetResult]) -> int:
    """1 if any target failed, else 2 if any has changes or drift, else 0."""
    if any(r.failed for r in results):
        return 1
    return 2 if any(r.pending for r in results) else 0


def render_fleet(results: Sequence[TargetResult], *, allow_data_loss: bool = False) -> Text:
    """Each target's section, then the summary: what a person reads at a terminal."""
    text = Text()
    for result in results:
        text.append(f"=== target {result.name} ({result.endpoint})\n", style="bold")
        text.append_text(_section(result, allow_data_loss=allow_data_loss))
        text.append("\n")
    return text.append_text(render_fleet_summary(results))


def _section(result: TargetResult, *, allow_data_loss: bool) -> Text:
    if result.drift is not None:
        from reconciler.render.drift_text import render_drift

        return render_drift(result.drift)
    text = Text()
    if result.planned is not None:
        if result.elsewhere:
            text.append(
                f"Not for this target (labels: {shown_labels(result.labels)}), by their "
                f"targets: labels: project {', '.join(result.elsewhere)}\n"
            )
        text.append_text(
            render_plan(
                result.planned.plan, result.planned.observed.engine, allow_data_loss=allow_data_loss
            )
        )
    if result.applied is not None and (result.applied.failed or result.applied.not_done):
        text.append_text(render_report(result.applied))
    elif result.applied is not None and result.applied.done:
        text.append(f"Apply complete: {counted(len(result.applied.done), 'action')} done.\n")
    if result.error is not None:
        text.append(f"error: {result.error}\n", style="bold red")
    return text


def render_fleet_summary(results: Sequence[TargetResult]) -> Text:
    """One row per target: its name, engine, status and what it counts."""
    statuses = [r.status() for r in results]
    tally = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
    text = Text(f"Targets: {len(results)} ({tally})\n", style="bold")
    rows = [(r.name, r.endpoint, s, r.detail()) for r, s in zip(results, statuses, strict=True)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row, result in zip(rows, results, strict=True):
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        style = "bold red" if result.failed else "yellow" if result.pending else "green"
        text.append(f"  {cells}  {row[3]}\n", style=style)
    return text


STATUSES = {
    "plan": ("failed", "changes", "no changes"),
    "drift": ("failed", "drift", "in sync"),
}
"""A target's status in each kind of run, as the summary counts them."""


def fleet_document(results: Sequence[TargetResult], kind: str) -> dict[str, Any]:
    """``kind`` is ``plan`` or ``drift``; the JSON has a ``targets`` map."""
    from reconciler.plan.document import FLEET_FORMAT_VERSION

    statuses = [r.status() for r in results]
    return {
        "format_version": FLEET_FORMAT_VERSION,
        "volplan_version": __version__,
        "kind": f"fleet_{kind}",
        "summary": {
            "targets": len(results),
            **{s.replace(" ", "_"): statuses.count(s) for s in STATUSES[kind]},
        },
        "targets": {r.name: _target_document(r) for r in results},
    }


def _target_document(result: TargetResult) -> dict[str, Any]:
    document: dict[str, Any] = {
        "endpoint": result.endpoint,
        "labels": dict(sorted(result.labels.items())),
        "status": result.status().replace(" ", "_"),
        "error": result.error,
        "elsewhere": list(result.elsewhere),
    }
    if result.drift is not None:
        from reconciler.render.json import drift_document

        document["drift"] = drift_document(result.drift)
    elif result.planned is not None:
        from reconciler.plan.document import plan_document

        document["plan"] = plan_document(result.planned)
    if result.applied is not None:
        document["applied"] = {
            "done": len(result.applied.done),
            "failed": result.applied.failed is not None,
            "not_done": len(result.applied.not_done),
        }
    return document
