"""depends_on, pure: validation, and waiting for a dependency's state on the fake engine."""

from __future__ import annotations

import pytest

from reconciler.apply.applier import container_request
from reconciler.apply.dependencies import POLL_SECONDS, Waiting, wait_for_dependencies
from reconciler.container_options import Condition, Dependency
from reconciler.engine.fake import FakeEngine
from reconciler.errors import DependencyError, SpecError
from reconciler.model import DesiredState
from reconciler.pipeline import Specs, plan
from reconciler.plan.actions import StartContainer, action_key
from specs import desired_from

SPEC = """\
version: 1
project: web
containers:
  db: {image: busybox, healthcheck: {test: [CMD, "true"]}}
  setup: {image: busybox}
  app:
    image: busybox
    depends_on:
      db: {condition: service_healthy}
      setup: {condition: service_completed_successfully}
"""


def test_short_form_waits_for_the_start() -> None:
    desired = desired_from(
        "version: 1\nproject: web\ncontainers:\n  db: {image: busybox}\n"
        "  app: {image: busybox, depends_on: [db]}\n"
    )
    assert desired.containers["app"].options.depends_on == (Dependency("db", Condition.STARTED),)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "  x1: {image: busybox, depends_on: [nope]}\n",
            "containers.x1.depends_on.nope: container 'nope' is not declared",
        ),
        (
            "  x1: {image: busybox, depends_on: [x2]}\n  x2: {image: busybox, depends_on: [x1]}\n",
            "containers.x1.depends_on: container 'x1' waits for itself through a depends_on cycle",
        ),
        (
            "  x1: {image: busybox, state: created}\n  x2: {image: busybox, depends_on: [x1]}\n",
            "containers.x2.depends_on.x1: container 'x1' is never started (state: created)",
        ),
        (
            "  x1: {image: busybox, depends_on: {db: {condition: healthy}}}\n",
            "containers.x1.depends_on.db.condition: Input should be 'service_started'",
        ),
    ],
)
def test_bad_dependencies_are_spec_errors(extra: str, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        desired_from(SPEC + extra)
    assert any(expected in str(p) for p in caught.value.problems), caught.value


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def wait_for(engine: FakeEngine, desired: DesiredState, waiting: Waiting) -> None:
    app = desired.containers["app"]
    wait_for_dependencies(engine, app.name, app.options.depends_on, waiting)


def started(desired: DesiredState, engine: FakeEngine, name: str) -> None:
    engine.create_container(container_request(desired.containers[name], ()))
    engine.start_container(name)


def test_apply_waits_until_each_dependency_is_in_its_state() -> None:
    desired = desired_from(SPEC)
    engine = FakeEngine(health={"db": "starting"})
    started(desired, engine, "db")
    started(desired, engine, "setup")
    clock = Clock()
    polls = 0

    def sleep(seconds: float) -> None:
        nonlocal polls
        polls += 1
        clock.sleep(seconds)
        if polls == 3:
            engine.health["db"] = "healthy"
        if polls == 5:
            engine.stop_container("setup", None)

    wait_for(engine, desired, Waiting(10, clock, sleep))

    assert polls == 5
    assert clock.now == pytest.approx(5 * POLL_SECONDS)


@pytest.mark.parametrize(
    ("health", "setup_exit", "message"),
    [
        ("unhealthy", 0, "but db is unhealthy"),
        ("healthy", 3, "but setup exited with code 3"),
    ],
)
def test_a_dependency_that_failed_stops_the_wait_at_once(
    health: str, setup_exit: int, message: str
) -> None:
    desired = desired_from(SPEC)
    engine = FakeEngine(health={"db": health}, exit_codes={"setup": setup_exit})
    started(desired, engine, "db")
    started(desired, engine, "setup")
    engine.stop_container("setup", None)
    clock = Clock()

    with pytest.raises(DependencyError, match=message):
        wait_for(engine, desired, Waiting(10, clock, clock.sleep))
    assert clock.now == 0


def test_a_dependency_without_a_healthcheck_is_never_healthy() -> None:
    desired = desired_from(SPEC.replace(', healthcheck: {test: [CMD, "true"]}', ""))
    engine = FakeEngine()
    started(desired, engine, "db")
    clock = Clock()
    with pytest.raises(DependencyError, match="but db has no healthcheck"):
        wait_for(engine, desired, Waiting(10, clock, clock.sleep))


def test_the_wait_ends_at_the_timeout() -> None:
    desired = desired_from(SPEC)
    engine = FakeEngine(health={"db": "starting"})
    started(desired, engine, "db")
    clock = Clock()
    with pytest.raises(
        DependencyError, match=r"to be healthy \(service_healthy\): not so after 2 s"
    ):
        wait_for(engine, desired, Waiting(2, clock, clock.sleep))
    assert clock.now == pytest.approx(2)


def test_the_plan_orders_dependents_after_their_dependencies_and_says_why() -> None:
    desired = desired_from(SPEC)

    planned = plan(Specs((), desired), FakeEngine())

    actions = {action_key(a).address.name: a for a in planned.plan.actions}
    assert list(actions) == ["db", "setup", "app"]
    assert {str(key) for key in actions["app"].requires} == {
        "container.db:create",
        "container.setup:create",
    }
    assert actions["app"].reason.endswith(
        "; starts once db is healthy, setup is completed successfully"
    )


def test_a_start_waits_for_the_dependencies_too() -> None:
    desired = desired_from(SPEC)
    engine = FakeEngine()
    for name in ("db", "setup", "app"):
        engine.create_container(container_request(desired.containers[name], ()))
    engine.start_container("db")

    planned = plan(Specs((), desired), engine)

    start = next(a for a in planned.plan.actions if action_key(a).address.name == "app")
    assert isinstance(start, StartContainer)
    assert start.waits_for == desired.containers["app"].options.depends_on
    assert {str(key) for key in start.requires} == {"container.setup:start"}
