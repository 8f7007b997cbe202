"""Building desired states from spec text in memory, for the pure-stage tests."""

from __future__ import annotations

import textwrap

from reconciler.apply.applier import ApplyOptions
from reconciler.model import DesiredState
from reconciler.plan.actions import Action, action_key
from reconciler.spec.files import SpecSource
from reconciler.spec.loader import build_desired_state

FOLDER = "/srv/specs"
ALLOW_DATA_LOSS = ApplyOptions(allow_data_loss=True)
"""For tests that apply plans directly: the applier itself refuses data loss otherwise."""


def key_of(action: Action) -> str:
    """The action's key as plans print it: ``volume.data:replace``."""
    return str(action_key(action))


def requires_of(action: Action) -> tuple[str, ...]:
    return tuple(map(str, action.requires))


def sources_from(*texts: str) -> list[SpecSource]:
    """One spec file per text, named spec0.yaml, spec1.yaml, ... in /srv/specs."""
    return [
        SpecSource(f"spec{i}.yaml", FOLDER, textwrap.dedent(text).encode())
        for i, text in enumerate(texts)
    ]


def desired_from(*texts: str) -> DesiredState:
    """What the texts declare, validated (the loader stage itself, no spec cache)."""
    return build_desired_state(sources_from(*texts))
