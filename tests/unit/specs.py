"""Building desired states from spec text in memory, for the pure-stage tests."""

from __future__ import annotations

import textwrap

from reconciler.model import DesiredState
from reconciler.spec.files import SpecSource
from reconciler.spec.loader import build_desired_state

FOLDER = "/srv/specs"


def desired_from(*texts: str) -> DesiredState:
    """One spec file per text, named spec0.yaml, spec1.yaml, ... in /srv/specs."""
    return build_desired_state(
        [
            SpecSource(f"spec{i}.yaml", FOLDER, textwrap.dedent(text).encode())
            for i, text in enumerate(texts)
        ]
    )
