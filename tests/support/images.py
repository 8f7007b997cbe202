"""Images configured like real ones (examples/images), built offline from busybox:latest.

Each is built once per engine with the legacy builder (the 20.10 engine's ``import
--change`` refuses STOPSIGNAL and HEALTHCHECK); a build with ``labels`` gives an image of
the same configuration under a new ID, as a new release behind a tag would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    build_offline(
        engine,
        path=str(FOLDER),
        dockerfile=f"{name}.Dockerfile",
        tag=tag or TAGS[name],
        labels=dict(labels or {}),
    )
    return engine.image_id(tag or TAGS[name])


def build_offline(engine: Engine, **build: Any) -> str:
    """The legacy builder with no network, failing on any build error; the new image's ID."""
    output = list(
        engine.client.build(rm=True, forcerm=True, network_mode="none", decode=True, **build)
    )
    errors = [line["error"] for line in output if "error" in line]
    assert not errors, errors
    ids = [line["aux"]["ID"] for line in output if "ID" in line.get("aux", {})]
    ids += [
        line["stream"].split()[-1]
        for line in output
        if line.get("stream", "").startswith("Successfully built")
    ]
    return str(ids[-1])


def build_all(engine: Engine) -> None:
    """Every image under its usual tag, unless this engine has it already."""
    present = {tag for image in engine.client.images() for tag in image["RepoTags"] or ()}
    for name, tag in TAGS.items():
        if tag not in present:
            build(engine, name)
