"""How a plan is made: the options plan and apply share, which a saved plan records.

Apart from the planner so that the command line builds them without importing the stages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanOptions:
    """How a plan is made. ``allow_data_loss`` is checked before applying, not here, but it
    belongs to the plan: a saved plan records both options and is applied with them."""

    prune: bool = False
    allow_data_loss: bool = False
    migrate: bool = False
    """Replace volumes without losing their content (migration.py)."""
    backup_dir: str | None = None
    """Back up each volume to this folder before replacing or removing it (data_safety.py)."""
    helper_image: str | None = None
    """Image of the helper containers that move volume content; None: the spec's, else
    volplan's own empty one."""
