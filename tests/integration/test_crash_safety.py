"""A SIGKILLed apply never loses data: kill it after every mutating engine call in turn.

The plan (tests/data/crash) migrates volume dbdata (its labels change), which removes and
creates again the two containers holding it, and recreates worker (its environment
changes): remove, copy, replace, copy back, create and recreate steps, 27 mutating calls
between taking and releasing the engine lock. Run N is killed right after call N
(VOLPLAN_TEST_KILL_AFTER), so every action boundary and every point inside a recreate and a
migration is hit; then apply runs again straight away, with no `volplan unlock`: the killed
run's lock frees itself (its holder is known dead), and the apply must converge with every
byte written before still there.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.volumes import fill, fingerprint

pytestmark = pytest.mark.engine

SPECS = Path(__file__).parent / "data" / "crash"
MUTATING_CALLS = 29  # the plan's 27, and the lock's create and remove
APPLY = ("apply", "--yes", "--migrate")
NO_RENEWAL = {"VOLPLAN_LOCK_LEASE": "3600"}
"""A lease renewal is a write, hence a kill point, at a time of its own: a long lease keeps
renewals out of the runs, so call N is the same step on every run."""


def _set_up(engine: Engine, run_cli: RunCli) -> dict[str, list[str]]:
    """Apply v1, write data everywhere, and return the volumes' fingerprints."""
    engine.reset()
    first = run_cli(*APPLY, str(SPECS / "v1"))
    assert first.exit_code == 0, first.stderr
    fill(engine, "dbdata")
    for container, path in (("dbstore", "/anon"), ("worker", "/cache"), ("worker", "/logs")):
        code, output = engine.exec_sh(container, f"echo {container}{path} > {path}/mark")
        assert code == 0, output
    return {"dbdata": fingerprint(engine, "dbdata")}


def _assert_converged_with_data(
    engine: Engine, run_cli: RunCli, before: dict[str, list[str]]
) -> None:
    plan = run_cli("plan", "--detailed-exitcode", "--migrate", str(SPECS / "v2"))
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert fingerprint(engine, "dbdata") == before["dbdata"]
    assert engine.exec_sh("web", "cat /anon/mark /dbdata/small.txt") == (0, "dbstore/anon\nsmall\n")
    assert engine.exec_sh("worker", "cat /cache/mark /logs/mark") == (
        0,
        "worker/cache\nworker/logs\n",
    )
    assert engine.container_names() == {"dbstore", "web", "worker"}
    # dbdata, logs and the two anonymous volumes: nothing orphaned, no temporary copy left.
    assert len(engine.volume_names()) == 4, engine.volume_names()


# What the plan says after some of the kills: the leftovers are shown, not hidden.
SHOWN_AFTER = {
    9: "helper container of an interrupted copy found",  # mid-migration, copy half done
    12: "copy the saved content back into volume dbdata",  # dbdata removed, not yet created
    25: "interrupted recreate of worker found; will roll it back",  # worker renamed
    26: "interrupted recreate of worker found; will finish it",  # new worker created
}


@pytest.mark.parametrize("kill_after", range(1, MUTATING_CALLS + 1))
def test_apply_killed_after_any_call_converges_without_data_loss(
    engine: Engine, run_cli: RunCli, kill_after: int
) -> None:
    _kill_then_converge(engine, run_cli, kill_after, sequential=True)


@pytest.mark.parametrize("kill_after", range(2, MUTATING_CALLS + 1, 5))
def test_a_parallel_apply_killed_midway_converges_without_data_loss(
    engine: Engine, run_cli: RunCli, kill_after: int
) -> None:
    """With the default workers the calls interleave, so only the outcome is checked."""
    _kill_then_converge(engine, run_cli, kill_after, sequential=False)


def _kill_then_converge(
    engine: Engine, run_cli: RunCli, kill_after: int, *, sequential: bool
) -> None:
    """Kill apply after call ``kill_after``, apply again at once: all data must be there.

    With one worker (``sequential``) call N is the same step on every run, so what the plan
    shows in between (SHOWN_AFTER) is checked too.
    """
    before = _set_up(engine, run_cli)
    env = {"VOLPLAN_TEST_KILL_AFTER": str(kill_after), **NO_RENEWAL}
    options = ("--parallelism", "1") if sequential else ()

    killed = run_cli(*APPLY, *options, str(SPECS / "v2"), env=env)
    assert killed.exit_code == -signal.SIGKILL, killed.stdout + killed.stderr
    if sequential and kill_after in SHOWN_AFTER:
        plan = run_cli("plan", "--migrate", str(SPECS / "v2"))
        assert SHOWN_AFTER[kill_after] in plan.stdout, plan.stdout
    again = run_cli(*APPLY, str(SPECS / "v2"))

    assert again.exit_code == 0, again.stdout + again.stderr
    _assert_converged_with_data(engine, run_cli, before)


def test_the_kill_points_cover_the_whole_plan(engine: Engine, run_cli: RunCli) -> None:
    """One call more than the plan makes: the run completes, so no call went untested."""
    before = _set_up(engine, run_cli)

    result = run_cli(
        *APPLY,
        str(SPECS / "v2"),
        env={"VOLPLAN_TEST_KILL_AFTER": str(MUTATING_CALLS + 1), **NO_RENEWAL},
    )

    assert result.exit_code == 0, result.stdout + result.stderr
    _assert_converged_with_data(engine, run_cli, before)


@pytest.mark.parametrize("kill_after", [9, 25, 26])
def test_a_plan_saved_next_to_a_killed_runs_leftovers_applies_and_converges(
    engine: Engine, run_cli: RunCli, tmp_path: Path, kill_after: int
) -> None:
    """The saved plan is bound to the engine as read, leftovers included, not to the state
    its recovery steps lead to: applying it re-reads the very same state, so it holds."""
    before = _set_up(engine, run_cli)
    killed = run_cli(
        *APPLY,
        "--parallelism",
        "1",
        str(SPECS / "v2"),
        env={"VOLPLAN_TEST_KILL_AFTER": str(kill_after)},
    )
    assert killed.exit_code == -signal.SIGKILL, killed.stdout + killed.stderr
    assert run_cli("unlock", "crash").exit_code == 0
    saved = tmp_path / "plan.json"

    planned = run_cli("plan", "--migrate", "--out", str(saved), str(SPECS / "v2"))
    applied = run_cli("apply", str(saved))

    assert planned.exit_code == 0, planned.stderr
    assert SHOWN_AFTER.get(kill_after, "") in planned.stdout
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    _assert_converged_with_data(engine, run_cli, before)
