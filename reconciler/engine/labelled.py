"""A target's labels over an engine's own: what a targets file's ``labels:`` means.

Wrapped around the engine, the overlay is in ``info()`` (and in ``list_all()``'s), so
every stage that matches specs to engines (placement.py) sees the target's labels and
nothing else changes; no request is added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, cast

from reconciler.engine.base import Engine, EngineLists
from reconciler.model import EngineInfo


class _Labelled:
    def __init__(self, engine: Engine, labels: Mapping[str, str]) -> None:
        self._engine = engine
        self._labels = dict(labels)

    def info(self) -> EngineInfo:
        return self._overlaid(self._engine.info())

    def list_all(self) -> EngineLists:
        lists = self._engine.list_all()
        return replace(lists, info=self._overlaid(lists.info))

    def _overlaid(self, info: EngineInfo) -> EngineInfo:
        return replace(info, labels={**info.labels, **self._labels})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def with_labels(engine: Engine, labels: Mapping[str, str]) -> Engine:
    """``engine``, reporting ``labels`` over its ``dockerd --label`` ones (none: itself)."""
    return cast(Engine, _Labelled(engine, labels)) if labels else engine
