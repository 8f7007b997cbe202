"""volplan's ownership labels and the canonical form of a resource's config. Pure.

Everything volplan creates carries the project label and a hash of its canonical desired
config, like Compose's config-hash, so unchanged resources are recognised from one list
call. Containers also carry the canonical config itself, which lets the differ say which
field changed without an inspect call per container.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from reconciler.memo import by_identity
from reconciler.model import DesiredContainer, DesiredVolume

PREFIX = "io.volplan."
PROJECT = PREFIX + "project"
CONFIG_HASH = PREFIX + "config-hash"
CONFIG = PREFIX + "config"
ANONYMOUS_FOR = PREFIX + "anonymous-for"
"""On an anonymous volume volplan made: ``container:target``, the mount it serves."""
IMAGE_VOLUME = PREFIX + "image-volume"
"""On an anonymous volume made for a path the image declares (``VOLUME``), not the spec."""
PROTECT = PREFIX + "protect"
RECREATE_SUFFIX = "_volplan-old"
"""The old container's name while its replacement is made; a leftover marks a cut-off run."""
MIGRATION_SUFFIX = "_volplan-migrate"
"""The name of a migration's temporary volume: the migrated volume's name, then this."""
ADOPTED_FROM = PREFIX + "adopted-from"
"""On a container made by adopting one volplan did not make: the old container's ID. A run
cut short leaves that one set aside as ``NAME_volplan-old``, unlabelled; only this label on
the new ``NAME`` proves it is the adopted container and not a stranger's of that name."""
HELPER = PREFIX + "helper"
"""On short-lived helper containers (copy, backup); one left by a crash is removed by the plan."""
MIGRATION_OF = PREFIX + "migration-of"
"""On a migration's temporary volume: the volume whose content it holds."""
MIGRATION_FROM = PREFIX + "migration-from"
"""On a migration's temporary volume: the config hash the migrated volume had when copied."""
ENGINE_INTERNAL_PREFIX = "com.docker."
COMPOSE_PROJECT = "com.docker.compose.project"
"""On what Compose made: its project. volplan only reads it, to say where a resource it
adopts came from."""


def json_hash(value: Any) -> str:
    """sha256 of the compact, key-sorted JSON of ``value`` (Compose v1's json_hash)."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def user_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """Labels as the spec sees them: volplan's own and the engine's internal ones dropped."""
    return {
        k: v
        for k, v in (labels or {}).items()
        if not k.startswith((PREFIX, ENGINE_INTERNAL_PREFIX))
    }


@by_identity
def volume_config(volume: DesiredVolume) -> dict[str, Any]:
    return {
        "driver": volume.driver,
        "driver_opts": dict(sorted(volume.driver_opts.items())),
        "labels": dict(sorted(volume.labels.items())),
    }


@by_identity
def container_config(container: DesiredContainer) -> dict[str, Any]:
    """The fields that, when changed, mean the container must be recreated.

    The run state is left out on purpose: starting or stopping happens in place. So are
    the image's volumes (``from_image`` mounts): they follow from the image, and the mounts
    the container really has are compared with them (differ.py). Values from an env file
    are recorded as ``(from env_file NAME)`` and by one digest, so a change is seen while
    the label, and every plan or report made from it, shows none.
    """
    return {
        "image": container.image,
        "command": list(container.command) if container.command is not None else None,
        "environment": shown_environment(container),
        **_env_file_digest(container),
        **container.options.config(),
        "labels": dict(sorted(container.labels.items())),
        "network_mode": container.network_mode,
        "restart": container.restart,
        "publish_all": container.publish_all,
        "stop_signal": container.stop_signal,
        "stop_timeout": container.stop_timeout,
        "mounts": {
            m.target: {
                "kind": m.kind.value,
                "source": m.source,
                "read_only": m.read_only,
                "propagation": m.propagation,
                "nocopy": m.nocopy,
                # only when set, so the config (and its hash) of every other mount stays
                **({"selinux": m.selinux} if m.selinux else {}),
            }
            for m in sorted(container.mounts, key=lambda m: m.target)
            if not m.from_image
        },
        "volumes_from": [
            f"{vf.container}:{'ro' if vf.read_only else 'rw'}" for vf in container.volumes_from
        ],
    }


def shown_environment(container: DesiredContainer) -> dict[str, str]:
    """The environment as plans show it: a value from an env file replaced by its origin."""
    hidden = container.env_from_file
    return {
        key: f"(from env_file {hidden[key]})" if key in hidden else value
        for key, value in sorted(container.environment.items())
    }


def _env_file_digest(container: DesiredContainer) -> dict[str, str]:
    if not container.env_from_file:
        return {}
    values = {key: container.environment[key] for key in container.env_from_file}
    return {"env_file_digest": "sha256:" + json_hash(values)}


def volume_labels(volume: DesiredVolume) -> dict[str, str]:
    labels = {
        **volume.labels,
        PROJECT: volume.project,
        CONFIG_HASH: json_hash(volume_config(volume)),
    }
    if volume.protect:
        labels[PROTECT] = "true"
    return labels


def container_labels(container: DesiredContainer) -> dict[str, str]:
    return {
        **container.labels,
        PROJECT: container.project,
        CONFIG: config_label(container),
        CONFIG_HASH: json_hash(container_config(container)),
    }


@by_identity
def config_label(container: DesiredContainer) -> str:
    """The ``CONFIG`` label's text: a container whose label reads exactly this was made
    from this config, which the differ can tell without parsing the label."""
    return canonical_json(container_config(container))


def anonymous_volume_name(project: str, container: str, target: str) -> str:
    """A stable 64-hex name, shaped like Docker's own anonymous volume names.

    Being derived from the owner and target, it lets a re-run find the volume again even
    after a crash left it attached to no container.
    """
    return hashlib.sha256(
        f"volplan-anonymous\0{project}\0{container}\0{target}".encode()
    ).hexdigest()


def anonymous_volume_labels(
    project: str, container: str, target: str, *, from_image: bool = False
) -> dict[str, str]:
    labels = {PROJECT: project, ANONYMOUS_FOR: f"{container}:{target}"}
    if from_image:
        labels[IMAGE_VOLUME] = "true"
    return labels
