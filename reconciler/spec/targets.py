"""A fleet's targets as plain data: what a targets file names (targets_file.py reads it).

Kept apart from the reader, which needs pydantic and ruamel.yaml, so that a run whose
targets come from the cache (targets_cache.py) or a saved plan never imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.errors import Position
from reconciler.model import TlsFiles


@dataclass(frozen=True)
class Target:
    """One engine of the fleet, as the targets file names it."""

    name: str
    host: str | None
    context: str | None
    origin: Position
    """Where its ``host:`` or ``context:`` stands in the file, for an address error."""
    tls: TlsFiles | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        """How reports name where it is: its address, or its context."""
        return self.host if self.host is not None else f"context {self.context}"
