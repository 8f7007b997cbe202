"""The part of a plan that may run unattended (``volplan watch --self-heal``). Pure.

Only actions of the classes ``safe`` and ``restarts-container`` are taken, never one that
``destroys-data``. Dropping a destructive action alone would leave what the plan arranged
around it half done: the containers removed to free a volume that is replaced would not be
created again, since their re-creation waits for the replacement. So every action linked
to a destructive one through the plan's ordering (``requires``, either way, transitively)
is held back with it; what is left needs nothing that was held back, so it is a plan.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from reconciler.identity import ActionKey
from reconciler.plan.actions import Action, Plan, Safety, action_key, describe

UNATTENDED = frozenset({Safety.SAFE, Safety.RESTARTS})
"""The data-safety classes an unattended run applies: never ``destroys-data``."""


@dataclass(frozen=True)
class Split:
    """A plan cut in two: what runs unattended, and what waits for a person."""

    unattended: Plan
    held_back: tuple[Action, ...]


def split_unattended(plan: Plan) -> Split:
    """``plan``'s actions outside every group that holds an action of another class than
    ``UNATTENDED`` (today: one that destroys data)."""
    held = _linked_to(plan, {action_key(a) for a in plan.actions if not unattended(a)})
    kept = tuple(a for a in plan.actions if action_key(a) not in held)
    back = tuple(a for a in plan.actions if action_key(a) in held)
    return Split(replace(plan, actions=kept), back)


def _linked_to(plan: Plan, start: set[ActionKey]) -> set[ActionKey]:
    """The keys reachable from ``start`` over ``requires`` edges taken in both directions."""
    edges: defaultdict[ActionKey, set[ActionKey]] = defaultdict(set)
    for action in plan.actions:
        key = action_key(action)
        for required in action.requires:
            edges[key].add(required)
            edges[required].add(key)
    seen, todo = set(start), list(start)
    while todo:
        for other in edges[todo.pop()] - seen:
            seen.add(other)
            todo.append(other)
    return seen


def unattended(action: Action) -> bool:
    """Whether the action's class is one ``--self-heal`` may take on its own."""
    return describe(action).safety in UNATTENDED
