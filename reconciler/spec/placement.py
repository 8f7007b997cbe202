"""Which projects go to an engine: a document's ``targets: {labels: ...}`` against the engine's
labels. Pure.

A target's labels are the engine's own (``dockerd --label k=v``, reported in ``/info``),
overlaid by a targets file's ``labels:``. A project whose documents ask for labels the
target does not carry, each with the same value, is not desired there: it is dropped from
the desired state before anything is planned, and named in ``elsewhere``. Dropped, not
declared absent: the planner, prune and drift only ever look at the desired projects'
resources, so what such a project already has on the engine is left exactly as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reconciler.model import DesiredState


def place(desired: DesiredState, labels: Mapping[str, str]) -> DesiredState:
    """``desired`` without the projects that are not for an engine labelled ``labels``.

    Idempotent: projects set aside earlier stay in ``elsewhere``."""
    away = tuple(
        project
        for project in desired.projects
        if not matches(desired.placement.get(project, {}), labels)
    )
    if not away:
        return desired
    return replace(
        desired,
        volumes={k: v for k, v in desired.volumes.items() if v.project not in away},
        containers={k: c for k, c in desired.containers.items() if c.project not in away},
        elsewhere=tuple(sorted({*desired.elsewhere, *away})),
    )


def matches(wanted: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Every wanted label is on the target with the same value (no labels: everywhere)."""
    return all(labels.get(key) == value for key, value in wanted.items())


def shown_labels(labels: Mapping[str, str]) -> str:
    """``role=edge, zone=a``, or ``(none)``: for messages."""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "(none)"
