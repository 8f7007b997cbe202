"""Images configured like real ones (examples/images), built offline from busybox:latest.

Each is built once per engine with the legacy builder (the 20.10 engine's ``import
--change`` refuses STOPSIGNAL and HEALTHCHECK); a build with ``labels`` gives an image of
the same configuration under a new ID, as a new release behind a tag would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from support.engine import Engine

FOLDER = Path(__file__).resolve().parents[2] / "examples" / "images"
TAGS = {
    "postgres-like": "volplan-example/postgres-like:17",
    "redis-like": "volplan-example/redis-like:7",
    "mongo-like": "volplan-example/mongo-like:7",
    "nginx-like": "volplan-example/nginx-like:1",
}
"""Each Dockerfile in FOLDER (NAME.Dockerfile) and the tag the examples and tests use."""


def build(
    engine: Engine, name: str, tag: str | None = None, labels: Mapping[str, str] | None = None
) -> str:
    """Build ``NAME.Dockerfile`` as ``tag`` (its usual tag by default); return the image ID."""
    output = list(
        engine.client.build(
            path=str(FOLDER),
            dockerfile=f"{name}.Dockerfile",
            tag=tag or TAGS[name],
            labels=dict(labels or {}),
            rm=True,
            forcerm=True,
            network_mode="none",
            decode=True,
        )
    )
    errors = [line["error"] for line in output if "error" in line]
    assert not errors, errors
    return engine.image_id(tag or TAGS[name])


def build_all(engine: Engine) -> None:
    """Every image under its usual tag, unless this engine has it already."""
    present = {tag for image in engine.client.images() for tag in image["RepoTags"] or ()}
    for name, tag in TAGS.items():
        if tag not in present:
            build(engine, name)
