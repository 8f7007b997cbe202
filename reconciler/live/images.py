"""The images the specs name: which ID each reference resolves to, and those IDs' configs.

Resolving is pure, over the ``/images/json`` list the live reader already made. A config
is read with one ``GET /images/{id}/json`` per distinct ID, and only once per ID: an
image's config is immutable for its ID (the ID is the digest of the config), so it is
kept in a small cache next to the spec cache (image_cache.py), and a converged check reads
no image at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from reconciler.engine.base import Engine
from reconciler.errors import EngineNotFound
from reconciler.live import image_cache
from reconciler.model import DesiredState, ImageConfig, LiveImage, LiveState

DEFAULT_REGISTRY = "docker.io/"
OFFICIAL_NAMESPACE = "library/"
_ID_RE = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")


def familiar(reference: str) -> str:
    """A reference as the engine lists it: ``docker.io/library/redis`` -> ``redis:latest``.

    A digest (``name@sha256:…``) is kept as is, and it wins over a tag next to it, as in
    Docker; a name with neither gets ``:latest``.
    """
    name, at, digest = reference.partition("@")
    name = name.removeprefix(DEFAULT_REGISTRY)
    if "/" not in name.removeprefix(OFFICIAL_NAMESPACE):
        name = name.removeprefix(OFFICIAL_NAMESPACE)
    repository, tag = _split_tag(name)
    if at:
        return f"{repository}@{digest}"
    return f"{repository}:{tag or 'latest'}"


def _split_tag(name: str) -> tuple[str, str | None]:
    """``host:5000/app:1`` -> (``host:5000/app``, ``1``): a tag follows the last ``/``."""
    head, slash, last = name.rpartition("/")
    base, colon, tag = last.partition(":")
    return head + slash + base, (tag if colon else None)


def image_index(images: Mapping[str, LiveImage]) -> dict[str, str]:
    """Every tag and digest on the engine -> the ID of the image it names."""
    index: dict[str, str] = {}
    for image in images.values():
        for reference in (*image.repo_tags, *image.repo_digests):
            if reference not in {"<none>:<none>", "<none>@<none>"}:
                index[familiar(reference)] = image.id
    return index


def resolve(
    reference: str, images: Mapping[str, LiveImage], index: Mapping[str, str]
) -> str | None:
    """The ID of the image ``reference`` names on the engine, or None if it has none.

    As the engine does, a reference is looked up as a name first, then as an image ID or
    an ID's unique prefix.
    """
    found = index.get(familiar(reference))
    if found is not None or not _ID_RE.match(reference):
        return found
    prefix = reference if reference.startswith("sha256:") else "sha256:" + reference
    matches = [image_id for image_id in images if image_id.startswith(prefix)]
    return matches[0] if len(matches) == 1 else None


def image_ids(desired: DesiredState, live: LiveState) -> dict[str, str]:
    """Each spec image reference that the engine holds -> its image ID."""
    images = live.images or {}
    index = image_index(images)
    references = sorted({c.image for c in desired.containers.values()})
    return {
        reference: image_id
        for reference in references
        if (image_id := resolve(reference, images, index)) is not None
    }


def with_image_ids(desired: DesiredState, live: LiveState) -> DesiredState:
    """``desired`` with the ``image_ids`` its references name on the engine now."""
    return replace(desired, image_ids=image_ids(desired, live))


def read_image_configs(engine: Engine, live: LiveState, desired: DesiredState) -> LiveState:
    """``live`` with the configs of the images the specs use: cached, else inspected."""
    wanted = sorted(set(image_ids(desired, live).values()))
    return replace(live, image_configs=dict(_configs(engine, wanted)))


def _configs(engine: Engine, wanted: Iterable[str]) -> Iterable[tuple[str, ImageConfig]]:
    for image_id in wanted:
        config = image_cache.load(image_id)
        if config is None:
            try:
                config = engine.inspect_image(image_id)
            except EngineNotFound:  # removed since the list call: as if never there
                continue
            image_cache.store(config)
        yield image_id, config
