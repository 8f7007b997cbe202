"""The lease lock against the real engine and the real CLI, across "machines".

Another machine is another network and UTS namespace (``unshare --net --uts``, with its
own hostname) reaching the engine's unix socket through the shared filesystem; with
``--pid --fork`` it also has its own pid namespace, so no waiter can tell from ``/proc``
whether its holder lives, and only the lease frees the lock. The holder is slow on
purpose: its plan recreates a container whose ``sleep`` (pid 1, which ignores SIGTERM)
the engine stops only after ``stop_timeout`` seconds.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.gitops import SLOW, start_cli, write_specs

pytestmark = pytest.mark.engine

OTHER_MACHINE = ("unshare", "--net", "--uts")
OTHER_MACHINE_OWN_PIDS = (*OTHER_MACHINE, "--pid", "--fork", "--kill-child")
AS_OTHER_HOST = ("sh", "-c", 'hostname other-machine && exec "$@"', "sh")
APPLY = ("apply", "specs", "--yes")


def _converged_with_data(engine: Engine, run_cli: RunCli, specs: Path, *, stop: int) -> None:
    """Round 1 applied and data in its volume; round 2 (one recreate) written, not applied."""
    write_specs(specs, SLOW.format(stop=1, round=1))
    first = run_cli(*APPLY, cwd=specs)
    assert first.exit_code == 0, first.stderr
    assert engine.exec_sh("app", "echo precious > /data/f") == (0, "")
    write_specs(specs, SLOW.format(stop=stop, round=2))


def _await_lock(engine: Engine, holder: subprocess.Popen[str]) -> str:
    """The lock container's ID once the holder has taken it."""
    for _ in range(300):
        found = engine.client.containers(all=True, filters={"name": "volplan-lock-shop"})
        if found:
            return str(found[0]["Id"])
        assert holder.poll() is None, holder.communicate()
        time.sleep(0.05)
    raise AssertionError("the holder never took the lock")


def _assert_converged(engine: Engine, run_cli: RunCli, specs: Path) -> None:
    plan = run_cli("plan", "--detailed-exitcode", "specs", cwd=specs)
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert engine.exec_sh("app", "cat /data/f") == (0, "precious\n")
    assert engine.container_names() == {"app"}


def test_an_apply_from_another_machine_waits_while_the_holder_lives(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    _converged_with_data(clean_engine, run_cli, tmp_path, stop=25)  # time for the waiter to start
    holder = start_cli(
        clean_engine.host, *APPLY, cwd=tmp_path, prefix=(*OTHER_MACHINE, *AS_OTHER_HOST)
    )
    _await_lock(clean_engine, holder)

    waiter = start_cli(clean_engine.host, *APPLY, "--lock-timeout", "120", cwd=tmp_path)
    assert waiter.stderr is not None
    announced = waiter.stderr.readline()
    held_out, held_err = holder.communicate(timeout=120)
    waited_out, waited_err = waiter.communicate(timeout=120)

    assert "waiting for the lock on project shop, held by root@other-machine" in announced
    assert holder.returncode == 0, held_err
    assert "Apply complete: 1 action done." in held_out
    assert waiter.returncode == 0, waited_err
    assert "Apply complete" not in waited_out  # the holder had done it all
    _assert_converged(clean_engine, run_cli, tmp_path)


def test_an_apply_from_another_machine_proceeds_once_the_holder_dies(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    _converged_with_data(clean_engine, run_cli, tmp_path, stop=30)
    holder = start_cli(
        clean_engine.host,
        *APPLY,
        cwd=tmp_path,
        env={"VOLPLAN_LOCK_LEASE": "3"},
        prefix=(*OTHER_MACHINE_OWN_PIDS, *AS_OTHER_HOST),
    )
    _await_lock(clean_engine, holder)
    waiter = start_cli(clean_engine.host, *APPLY, "--lock-timeout", "120", cwd=tmp_path)
    assert waiter.stderr is not None
    announced = waiter.stderr.readline()
    holder.send_signal(signal.SIGKILL)  # unshare, and with it the apply (--kill-child)
    holder.communicate(timeout=30)
    killed = time.monotonic()
    _waited_out, waited_err = waiter.communicate(timeout=120)

    assert "held by root@other-machine" in announced
    assert waiter.returncode == 0, waited_err
    assert time.monotonic() - killed >= 2  # the lease (3 s), from the waiter's first look
    _assert_converged(clean_engine, run_cli, tmp_path)


def test_a_frozen_holder_is_not_robbed_before_its_lease_expires(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    _converged_with_data(clean_engine, run_cli, tmp_path, stop=20)
    holder = start_cli(clean_engine.host, *APPLY, cwd=tmp_path, env={"VOLPLAN_LOCK_LEASE": "5"})
    try:
        held = _await_lock(clean_engine, holder)
        holder.send_signal(signal.SIGSTOP)

        impatient = run_cli(*APPLY, "--lock-timeout", "3", cwd=tmp_path)
        still = clean_engine.client.containers(all=True, filters={"name": "volplan-lock-shop"})
        started = time.monotonic()
        patient = run_cli(*APPLY, "--lock-timeout", "120", cwd=tmp_path)
        waited = time.monotonic() - started
    finally:
        holder.send_signal(signal.SIGCONT)
    _, resumed_err = holder.communicate(timeout=120)

    assert impatient.exit_code == 1
    assert "is locked by" in impatient.stderr
    assert "Run volplan apply again" in impatient.stderr
    assert [c["Id"] for c in still] == [held]
    assert patient.exit_code == 0, patient.stderr
    assert waited >= 5
    assert holder.returncode == 1, resumed_err
    assert "error: lost the lock on project shop" in resumed_err
    _assert_converged(clean_engine, run_cli, tmp_path)
