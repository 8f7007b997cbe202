"""Stand-ins for the images the Compose corpus names, built offline from busybox:latest.

No registry is reachable, so each image a Compose file names is a busybox image tagged
with that name and declaring the VOLUMEs the real image declares (the table below, read
from each image's Dockerfile on its official repository; images not listed declare none).
One image is built per distinct set of VOLUMEs, then tagged with every name that has it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from support.engine import Engine
from support.images import build_offline

REAL_VOLUMES: dict[str, tuple[str, ...]] = {
    "postgres": ("/var/lib/postgresql/data",),
    "mysql": ("/var/lib/mysql",),
    "mariadb": ("/var/lib/mysql",),
    "mongo": ("/data/configdb", "/data/db"),
    "redis": ("/data",),
    "nextcloud": ("/var/www/html",),
    "wordpress": ("/var/www/html",),
    "gitea/gitea": ("/data",),
    "itzg/minecraft-server": ("/data",),
    "linuxserver/plex": ("/config",),
    "dpage/pgadmin4": ("/var/lib/pgadmin",),
    "prom/prometheus": ("/prometheus",),
    "odoo": ("/mnt/extra-addons", "/var/lib/odoo"),
}


def repository(reference: str) -> str:
    """``docker.io/library/postgres:12-alpine`` -> ``postgres``; digests and tags dropped."""
    name = reference.split("@", maxsplit=1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":")[0]
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        name = name.removeprefix(prefix)
    return name


def tagged(reference: str) -> str:
    """The reference with a tag, as the engine lists it (``nginx`` -> ``nginx:latest``)."""
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last or "@" in reference else f"{reference}:latest"


def build_stand_ins(engine: Engine, references: Iterable[str]) -> None:
    """Every reference present on ``engine`` as a stand-in (kept if already there)."""
    present = {tag for image in engine.client.images() for tag in image["RepoTags"] or ()}
    built: dict[tuple[str, ...], str] = {}
    for reference in sorted({tagged(r) for r in references} - present):
        volumes = REAL_VOLUMES.get(repository(reference), ())
        if volumes not in built:
            built[volumes] = _build(engine, volumes)
        name, _, tag = reference.rpartition(":")
        engine.client.tag(built[volumes], name, tag)


def _build(engine: Engine, volumes: tuple[str, ...]) -> str:
    lines = ["FROM busybox:latest", "LABEL volplan-test.stand-in=compose"]
    lines += [f'VOLUME ["{path}"]' for path in volumes]
    return build_offline(engine, fileobj=io.BytesIO("\n".join(lines).encode()))
