"""The networks specs attach to must exist: volplan never creates or removes a network.

Read only when a spec names one, so a plan without networks keeps its request count.
"""

from __future__ import annotations

from reconciler.engine.base import Engine
from reconciler.errors import PlanError
from reconciler.model import DesiredState

NETWORK_MODES = frozenset({"none", "host"})
"""Taken by every engine without a network of that name: dockerd lists both as networks,
Podman (4.3) neither (tests/integration/test_podman_differences.py), so they are not looked
up."""


def check_networks(desired: DesiredState, engine: Engine) -> None:
    """Raise ``PlanError`` naming each network a spec attaches to that the engine lacks."""
    wanted = {
        (network.name, container.name, str(container.origin_of("networks")))
        for container in desired.containers.values()
        for network in container.options.networks
        if network.name not in NETWORK_MODES
    }
    if not wanted:
        return
    existing = set(engine.list_networks())
    missing = sorted(item for item in wanted if item[0] not in existing)
    if missing:
        raise PlanError(
            "\n".join(
                f"{where}: container {container} attaches to network {name!r}, which does not "
                f"exist on the engine; volplan never creates networks (docker network create "
                f"{name})"
                for name, container, where in missing
            )
        )
