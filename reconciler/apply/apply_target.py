"""What ``apply`` applies: a spec folder planned now, or a saved plan checked again.

Both give the projects to lock and the helper image the lock uses before anything is read
from the engine, then a fresh ``Planned`` once the lock is held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.engine.base import Engine
from reconciler.errors import RefusedError
from reconciler.model import DesiredState
from reconciler.pipeline import Planned, Specs, load, placed, plan
from reconciler.plan.data_safety import helper_image
from reconciler.plan.options import PlanOptions
from reconciler.spec.files import SPEC_SUFFIXES

if TYPE_CHECKING:  # a saved plan's modules (and pydantic with them) load only for one
    from reconciler.plan.saved_plan import SavedPlan


@dataclass(frozen=True)
class ApplyTarget:
    specs: Specs
    options: PlanOptions
    saved: SavedPlan | None = None

    @classmethod
    def open(cls, target: Path, options: PlanOptions) -> ApplyTarget:
        """A folder of specs, or a plan file; a plan file keeps the options it was made with."""
        if not target.is_file() or target.suffix in SPEC_SUFFIXES:
            return cls(load(target), options)
        if options != PlanOptions():
            raise RefusedError(
                "a saved plan is applied with the options it was made with; to change "
                "--prune or --allow-data-loss, make the plan again with them"
            )
        from reconciler.apply.replan import embedded_specs  # noqa: PLC0415 - see TYPE_CHECKING
        from reconciler.plan.saved_plan import read_saved_plan  # noqa: PLC0415

        saved = read_saved_plan(target)
        return cls(embedded_specs(saved), saved.options, saved)

    def placed(self, labels: Mapping[str, str]) -> ApplyTarget:
        """Only the projects meant for an engine labelled ``labels`` (placement.py)."""
        return replace(self, specs=placed(self.specs, labels))

    @property
    def desired(self) -> DesiredState:
        return self.specs.desired

    @property
    def helper_image(self) -> str:
        """The image of the helper containers, and of the engine lock's container."""
        return helper_image(self.options, self.desired.helper_image)

    def plan(self, engine: Engine) -> Planned:
        if self.saved is not None:
            from reconciler.apply.replan import replan_saved  # noqa: PLC0415

            return replan_saved(self.saved, self.specs, engine)
        return plan(self.specs, engine, self.options)
