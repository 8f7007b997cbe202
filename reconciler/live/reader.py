"""Stage 2, the live reader: the engine's answers -> ``LiveState``.

Three list calls (info, volumes, containers) describe the whole engine, however many
resources it holds; no per-resource inspect. The engine layer parses the answers into
typed records (``engine/records.py``); ``normalise`` is pure and assembles them, so it is
tested without an engine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from reconciler.engine.base import Engine
from reconciler.model import EngineInfo, LiveContainer, LiveState, LiveVolume


def read_live_state(engine: Engine) -> LiveState:
    """The three calls go out at once, so a plan waits for the slowest, not for their sum."""
    with ThreadPoolExecutor(3, thread_name_prefix="volplan-list") as pool:
        info = pool.submit(engine.info)
        volumes = pool.submit(engine.list_volumes)
        containers = pool.submit(engine.list_containers)
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
