"""Volumes marked ``protect: true`` are never removed or replaced, whatever the flags. Pure.

Protection is read from both sides: the spec, and the ``io.volplan.protect`` label written
when the volume was created. The label matters because removing ``protect: true`` from a
spec (or the whole volume) must not lift the protection in the same change, the hole
Terraform documents for ``prevent_destroy``. Volumes cannot be relabelled, so a volume
once protected stays protected until someone removes it by hand.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler import labels
from reconciler.errors import PlanError
from reconciler.fieldpath import format_path
from reconciler.identity import Address
from reconciler.model import DesiredState, LiveState
from reconciler.plan.actions import Action, ReplaceVolume


def is_protected(name: str, desired: DesiredState, live: LiveState) -> bool:
    declared = desired.volumes.get(name)
    found = live.volumes.get(name)
    return (declared is not None and declared.protect) or (
        found is not None and found.labels.get(labels.PROTECT) == "true"
    )


def refuse_protected_replacements(
    actions: Iterable[Action], desired: DesiredState, live: LiveState
) -> None:
    """Fail the plan if it would replace a protected volume (Terraform's ``prevent_destroy``)."""
    blocked = [
        a
        for a in actions
        if isinstance(a, ReplaceVolume) and is_protected(a.volume.name, desired, live)
    ]
    if not blocked:
        return
    lines = [
        f"{Address.volume(a.volume.name)} ({a.origin}): "
        + ", ".join(
            f"{format_path(c.path)}: live {c.before!r}, spec {c.after!r}" for c in a.changes
        )
        for a in blocked
    ]
    raise PlanError(
        "the specs need protected volumes replaced, which volplan never does (protect: true, "
        "or the io.volplan.protect label of the live volume):\n  "
        + "\n  ".join(lines)
        + "\nRevert the spec change, or back the volume up and remove it yourself "
        "(docker volume rm) before applying."
    )
