"""The parallel scheduler: dependency order, plan-order results, and what a failure stops."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass

import pytest
from test_reconcile import BASE, converge, plan_for

from reconciler.apply.applier import ApplyOptions, apply_plan
from reconciler.apply.interrupt import Interruption
from reconciler.apply.scheduler import default_parallelism, run_actions
from reconciler.engine.fake import FakeEngine
from reconciler.errors import ApplyError, EngineError
from reconciler.identity import ActionKey, ActionKind, Address
from reconciler.model import DesiredState, EngineInfo
from reconciler.pipeline import load
from reconciler.plan.actions import Action, StartContainer, action_key
from reconciler.spec.files import SpecSource
from specs import key_of


def base_state() -> DesiredState:
    return load([SpecSource("spec0.yaml", "/srv/specs", BASE.encode())]).desired


@dataclass(frozen=True)
class Result:
    action: Action
    ok: bool
    fatal: bool = False


def start(name: str, *requires: str) -> Action:
    return StartContainer(
        name=name,
        reason="test",
        requires=tuple(ActionKey(ActionKind.START, Address.container(r)) for r in requires),
    )


class Recorder:
    """Runs actions by name, recording the order they started and ended in."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.events: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, action: Action) -> Result:
        name = action_key(action).address.name
        with self.lock:
            self.events.append(f"start {name}")
        with self.lock:
            self.events.append(f"end {name}")
        return Result(action, name not in self.failing)


CHAIN = [start("a"), start("b", "a"), start("c"), start("d", "b", "c"), start("e")]


@pytest.mark.parametrize("parallelism", [1, 2, 4, 32])
def test_an_action_starts_only_after_what_it_requires(parallelism: int) -> None:
    recorder = Recorder()
    run_actions(
        CHAIN, recorder, parallelism=parallelism, on_start=lambda a: None, on_result=lambda r: None
    )
    events = recorder.events
    for later, earlier in [("b", "a"), ("d", "b"), ("d", "c")]:
        assert events.index(f"start {later}") > events.index(f"end {earlier}")
    assert sorted(events) == sorted(f"{e} {n}" for n in "abcde" for e in ("start", "end"))


def test_one_worker_runs_the_plan_in_its_order() -> None:
    recorder = Recorder()
    run_actions(CHAIN, recorder, parallelism=1, on_start=lambda a: None, on_result=lambda r: None)
    assert recorder.events == [f"{e} {n}" for n in "abcde" for e in ("start", "end")]


@pytest.mark.parametrize("parallelism", [1, 3])
def test_results_come_back_in_plan_order(parallelism: int) -> None:
    shown: list[Action] = []
    scheduled = run_actions(
        CHAIN,
        Recorder(),
        parallelism=parallelism,
        on_start=lambda a: None,
        on_result=lambda r: shown.append(r.action),
    )
    assert shown == CHAIN
    assert [r.action for r in scheduled.results] == CHAIN
    assert scheduled.not_started == ()


@pytest.mark.parametrize("parallelism", [1, 3])
def test_after_a_failure_its_dependents_never_start_the_others_do(parallelism: int) -> None:
    recorder = Recorder(failing=frozenset({"a"}))
    scheduled = run_actions(
        CHAIN, recorder, parallelism=parallelism, on_start=lambda a: None, on_result=lambda r: None
    )
    assert [(key_of(r.action), r.ok) for r in scheduled.results] == [
        ("container.a:start", False),
        ("container.c:start", True),
        ("container.e:start", True),
    ]
    assert scheduled.not_started == (CHAIN[1], CHAIN[3])  # b needs a; d needs b


def test_a_second_failure_stops_everything_new() -> None:
    recorder = Recorder(failing=frozenset({"a", "c"}))
    scheduled = run_actions(
        CHAIN, recorder, parallelism=1, on_start=lambda a: None, on_result=lambda r: None
    )
    assert [r.ok for r in scheduled.results] == [False, False]
    assert scheduled.not_started == (CHAIN[1], CHAIN[3], CHAIN[4])


def test_a_fatal_failure_stops_everything_new() -> None:
    def gone(action: Action) -> Result:
        return Result(action, ok=False, fatal=True)

    scheduled = run_actions(CHAIN, gone, parallelism=1, on_start=print, on_result=print)
    assert len(scheduled.results) == 1
    assert scheduled.not_started == tuple(CHAIN[1:])


@pytest.mark.parametrize(("parallelism", "started"), [(1, "a"), (3, "ace")])
def test_once_interrupted_nothing_new_starts_and_what_runs_finishes(
    parallelism: int, started: str
) -> None:
    interruption = Interruption()
    recorder = Recorder()

    def run(action: Action) -> Result:
        if key_of(action) == "container.a:start":
            interruption.request(signal.SIGTERM)  # the signal lands while ``a`` runs
            time.sleep(0.3)  # longer than the scheduler's poll
        return recorder(action)

    scheduled = run_actions(
        CHAIN,
        run,
        parallelism=parallelism,
        on_start=lambda a: None,
        on_result=lambda r: None,
        interrupted=interruption.requested,
    )
    assert "".join(key_of(r.action)[10] for r in scheduled.results) == started
    assert all(r.ok for r in scheduled.results)
    assert scheduled.not_started == tuple(a for a in CHAIN if key_of(a)[10] not in started)


def test_an_interrupted_apply_says_what_was_done_and_what_never_started() -> None:
    engine = FakeEngine()
    interruption = Interruption()
    plan = plan_for(base_state(), engine)

    def stop_at_the_first_create(method: str, subject: str) -> None:
        if method.startswith("create_"):
            interruption.request(signal.SIGTERM)

    engine.fault = stop_at_the_first_create
    with pytest.raises(ApplyError) as caught:
        apply_plan(plan, engine, options=ApplyOptions(interruption=interruption))
    report = caught.value.report
    assert str(caught.value) == (
        f"stopped by SIGTERM: of the plan's actions 1 done, {len(plan.actions) - 1} never started"
    )
    assert report.failed is None
    assert [r.action for r in report.done] + list(report.not_done) == list(plan.actions)


def test_a_parallelism_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_actions(CHAIN, Recorder(), parallelism=0, on_start=print, on_result=print)


@pytest.mark.parametrize(("cpus", "expected"), [(0, 2), (1, 4), (2, 8), (8, 32), (64, 32)])
def test_default_parallelism_follows_the_engine_cpus(cpus: int, expected: int) -> None:
    info = EngineInfo("fake://", "id", "fake", "20.10", "1.41", is_local=False, cpus=cpus)
    assert default_parallelism(info) == expected


def test_parallel_apply_converges_like_a_sequential_one() -> None:
    engine = FakeEngine()
    converge_parallel = plan_for(base_state(), engine)
    apply_plan(converge_parallel, engine, options=ApplyOptions(parallelism=4))
    assert plan_for(base_state(), engine).actions == ()
    sequential = FakeEngine()
    converge(BASE, sequential)
    assert sorted(engine.volumes) == sorted(sequential.volumes)
    assert sorted(engine.containers) == sorted(sequential.containers)


def test_a_parallel_failure_reports_what_was_done_and_what_was_not() -> None:
    engine = FakeEngine()

    def fail_dbstore(method: str, subject: str) -> None:
        if method == "create_container" and subject == "dbstore":
            raise EngineError("creating container dbstore: boom")

    engine.fault = fail_dbstore
    plan = plan_for(base_state(), engine)
    with pytest.raises(ApplyError) as caught:
        apply_plan(plan, engine, options=ApplyOptions(parallelism=4))
    report = caught.value.report
    assert report.failed is not None
    assert key_of(report.failed.action) == "container.dbstore:create"
    accounted = [r.action for r in report.done] + [report.failed.action]
    accounted += [r.action for r in report.also_failed] + list(report.not_done)
    assert sorted(map(key_of, accounted)) == sorted(map(key_of, plan.actions))
    assert "container.web:create" in map(key_of, report.not_done)
