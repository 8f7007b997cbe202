"""Stage 2, the live reader: the engine's answers -> ``LiveState``.

Three list calls (info, volumes, containers) describe the whole engine, however many
resources it holds; no per-resource inspect. The engine layer parses the answers into
typed records (``engine/records.py``); ``normalise`` is pure and assembles them, so it is
tested without an engine.
"""

from __future__ import annotations

from reconciler.engine.base import Engine
from reconciler.live.background import Background
from reconciler.model import EngineInfo, LiveContainer, LiveState, LiveVolume


def read_live_state(engine: Engine) -> LiveState:
    """The three calls go out at once, so a plan waits for the slowest, not for their sum.

    On plain threads (``Background``), not an executor: ``concurrent.futures`` imports
    ``logging``, which would be a tenth of a check's start-up spent on nothing it uses.
    """
    info = Background(engine.info, name="volplan-list-info")
    volumes = Background(engine.list_volumes, name="volplan-list-volumes")
    containers = Background(engine.list_containers, name="volplan-list-containers")
    return normalise(info.result(), volumes.result(), containers.result())


def normalise(
    engine: EngineInfo, volumes: list[LiveVolume], containers: list[LiveContainer]
) -> LiveState:
    """Key the list answers by name, in name order, so every later stage is deterministic."""
    return LiveState(
        engine=engine,
        volumes={v.name: v for v in sorted(volumes, key=_name)},
        containers={c.name: c for c in sorted(containers, key=_name)},
    )


def _name(resource: LiveVolume | LiveContainer) -> str:
    return resource.name
