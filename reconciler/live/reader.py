"""Stage 2, the live reader: the engine's answers -> ``LiveState``.

Four list calls (info, volumes, containers, images) describe the whole engine, however
many resources it holds; no per-resource inspect (image configs are read by images.py).
The engine layer parses the answers into typed records (``engine/records.py``);
``normalise`` is pure and assembles them, so it is tested without an engine.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.engine.base import Engine
from reconciler.model import EngineInfo, LiveContainer, LiveImage, LiveState, LiveVolume


def read_live_state(engine: Engine) -> LiveState:
    """The four calls go out at once (``Engine.list_all``), so a plan waits for the
    slowest, not for their sum."""
    lists = engine.list_all()
    return normalise(lists.info, lists.volumes, lists.containers, lists.images)


def connect_and_read(connect: Callable[[], Engine]) -> tuple[Engine, LiveState]:
    """The engine, and its live state read now."""
    engine = connect()
    return engine, read_live_state(engine)


def normalise(
    engine: EngineInfo,
    volumes: list[LiveVolume],
    containers: list[LiveContainer],
    images: list[LiveImage] | None = None,
) -> LiveState:
    """Key the list answers by name (images by ID), in that order, so every later stage is
    deterministic. ``images`` is None for a live state recorded without the image list."""
    return LiveState(
        engine=engine,
        volumes={v.name: v for v in sorted(volumes, key=_name)},
        containers={c.name: c for c in sorted(containers, key=_name)},
        images=None if images is None else {i.id: i for i in sorted(images, key=_id)},
    )


def _id(image: LiveImage) -> str:
    return image.id


def _name(resource: LiveVolume | LiveContainer) -> str:
    return resource.name
