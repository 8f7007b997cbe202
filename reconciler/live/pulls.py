"""Which images apply pulls, under each container's ``pull`` policy or ``apply --pull``.

``pull_policies`` is pure: a plan never pulls, it says what apply would pull
(plan/image_notes.py). ``pull_images`` does the pulling, before apply plans, so the plan
it shows and runs is made against the images it will create containers from (their IDs,
and the volumes they declare).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from reconciler.engine.base import Engine
from reconciler.errors import PlanError
from reconciler.model import DesiredState, PullPolicy

_STRENGTH = (PullPolicy.NEVER, PullPolicy.MISSING, PullPolicy.ALWAYS)


def pull_policies(
    desired: DesiredState, override: PullPolicy | None = None
) -> dict[str, PullPolicy]:
    """Each spec image -> its policy: the override, else the most eager of the containers
    that use it (one container's ``always`` is a pull for all of them)."""
    policies: dict[str, PullPolicy] = {}
    for container in desired.containers.values():
        policy = override or container.pull
        known = policies.get(container.image, PullPolicy.NEVER)
        policies[container.image] = max(known, policy, key=_STRENGTH.index)
    return dict(sorted(policies.items()))


def pull_images(
    engine: Engine,
    desired: DesiredState,
    override: PullPolicy | None,
    progress: Callable[[str, str], None],
) -> tuple[str, ...]:
    """Pull what the policies say, before anything changes, and return the images, all now
    on the engine; ``PlanError`` for an image the engine lacks under ``never``, so
    nothing is changed then either."""
    policies = pull_policies(desired, override)
    for image, policy in policies.items():
        if policy is PullPolicy.ALWAYS or (
            policy is PullPolicy.MISSING and not engine.image_present(image)
        ):
            engine.pull_image(image, partial(progress, image))
        elif policy is PullPolicy.NEVER and not engine.image_present(image):
            users = sorted(n for n, c in desired.containers.items() if c.image == image)
            raise PlanError(
                f"image {image} is not on the engine, and pull: never forbids pulling it "
                f"(containers: {', '.join(users)}); pull or build it, or use --pull missing"
            )
    return tuple(policies)
