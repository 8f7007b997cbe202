"""Stage 2, the live reader: the engine's answers -> ``LiveState``.

Four list calls (info, volumes, containers, images) describe the whole engine, however
many resources it holds; no per-resource inspect (image configs are read by images.py).
``normalise`` is pure and takes the raw list answers, so it is tested without an engine.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from reconciler.engine.base import Engine, RawObject
from reconciler.model import (
    EngineInfo,
    LiveContainer,
    LiveImage,
    LiveMount,
    LiveState,
    LiveVolume,
)


def read_live_state(engine: Engine) -> LiveState:
    """The four calls go out at once, so a plan waits for the slowest, not for their sum."""
    with ThreadPoolExecutor(4, thread_name_prefix="volplan-list") as pool:
        info = pool.submit(engine.info)
        volumes = pool.submit(engine.list_volumes)
        containers = pool.submit(engine.list_containers)
        images = pool.submit(engine.list_images)
        return normalise(info.result(), volumes.result(), containers.result(), images.result())


def normalise(
    engine: EngineInfo,
    volumes: list[RawObject],
    containers: list[RawObject],
    images: Sequence[RawObject] | None = None,
) -> LiveState:
    live_volumes = {v["Name"]: _volume(v) for v in volumes}
    live_containers = {c.name: c for c in map(_container, containers)}
    return LiveState(
        engine=engine,
        volumes=dict(sorted(live_volumes.items())),
        containers=dict(sorted(live_containers.items())),
        images=None if images is None else {i.id: i for i in map(_image, images)},
    )


def _image(raw: RawObject) -> LiveImage:
    return LiveImage(
        id=raw["Id"],
        repo_tags=tuple(raw.get("RepoTags") or ()),
        repo_digests=tuple(raw.get("RepoDigests") or ()),
    )


def _volume(raw: RawObject) -> LiveVolume:
    return LiveVolume(
        name=raw["Name"],
        driver=raw.get("Driver") or "local",
        driver_opts=dict(raw.get("Options") or {}),
        labels=dict(raw.get("Labels") or {}),
        mountpoint=raw.get("Mountpoint") or "",
        scope=raw.get("Scope") or "local",
    )


def _container(raw: RawObject) -> LiveContainer:
    names = raw.get("Names") or [raw["Id"]]
    return LiveContainer(
        id=raw["Id"],
        name=names[0].lstrip("/"),
        image=raw.get("Image") or "",
        image_id=raw.get("ImageID") or "",
        status=raw.get("State") or "",
        labels=dict(raw.get("Labels") or {}),
        mounts=tuple(sorted((_mount(m) for m in raw.get("Mounts") or []), key=lambda m: m.target)),
    )


def _mount(raw: RawObject) -> LiveMount:
    return LiveMount(
        target=posixpath.normpath(raw.get("Destination") or "/"),
        type=raw.get("Type") or "volume",
        name=raw.get("Name") or None,
        source=raw.get("Source") or "",
        read_only=not raw.get("RW", True),
        propagation=raw.get("Propagation") or "",
    )
