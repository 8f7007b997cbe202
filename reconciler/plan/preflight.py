"""Checks on the host that a plan depends on; runs only when the engine is local.

Docker silently creates a missing bind source as an empty root-owned directory; volplan
makes that an error unless the spec opts in with ``create_host_path``.
"""

from __future__ import annotations

import os

from reconciler.errors import Problem, SpecError
from reconciler.model import MountKind
from reconciler.plan.actions import CreateContainer, Plan, RecreateContainer


def check_bind_sources(plan: Plan) -> None:
    problems = []
    for action in plan.actions:
        if not isinstance(action, CreateContainer | RecreateContainer):
            continue
        container = action.container
        for mount in container.mounts:
            if (
                mount.kind is MountKind.BIND
                and not mount.create_host_path
                and not os.path.exists(str(mount.source))
            ):
                path = f"mounts[{mount.target}]"
                problems.append(
                    Problem(
                        container.origin_of(path),
                        f"containers.{container.name}.{path}",
                        f"bind source {mount.source} does not exist on this host (create it, "
                        "or set create_host_path: true in the long mount form)",
                        "missing-host-path",
                    )
                )
    if problems:
        raise SpecError(problems)
