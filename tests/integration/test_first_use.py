"""What a new user hit on a first afternoon with volplan (issue 12 part 5), one test each,
through the real CLI: on a real pseudo-terminal where only a terminal shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.gitops import write_specs
from support.pty_cli import run_on_pty

pytestmark = pytest.mark.engine

ONE_CONTAINER = """\
    version: 1
    project: shop
    volumes:
      data: {}
    containers:
      app:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: ["data:/data"]
    """


def test_no_color_on_a_terminal_writes_no_escape_code(clean_engine: Engine, tmp_path: Path) -> None:
    write_specs(tmp_path, ONE_CONTAINER)
    runs = {
        "plan": ("plan", "specs"),
        "error": ("plan", "specs", "-H", "bogus://x"),
        "help": ("plan", "--help"),
        "top help": (),
    }
    for what, args in runs.items():
        coloured = run_on_pty(*args, docker_host=clean_engine.host, cwd=tmp_path)
        plain = run_on_pty(
            *args, docker_host=clean_engine.host, env={"NO_COLOR": "1"}, cwd=tmp_path
        )

        assert "\x1b[" in coloured.stdout, what  # the terminal does get styles without it
        assert "\x1b[" not in plain.stdout, (what, plain.stdout)
        assert plain.stdout.strip(), what


@pytest.mark.parametrize(
    ("typed", "applied"),
    [
        ("yes\n", True),
        ("Y\n", True),
        ("y\n", True),
        ("no\n", False),
        ("\n", False),
        ("\x04", False),
    ],
)
def test_the_prompt_takes_yes_and_no_and_end_of_input_is_no(
    clean_engine: Engine, tmp_path: Path, typed: str, applied: bool
) -> None:
    write_specs(tmp_path, ONE_CONTAINER)

    run = run_on_pty(
        "apply",
        "specs",
        docker_host=clean_engine.host,
        typed=typed,
        env={"NO_COLOR": "1"},
        cwd=tmp_path,
    )

    assert "Please" not in run.stdout
    if applied:
        assert run.exit_code == 0, run.stdout
        assert "Apply complete" in run.stdout
        assert clean_engine.client.volumes(filters={"name": "data"})["Volumes"]
    else:
        assert run.exit_code == 1, run.stdout
        assert "error: apply cancelled; nothing was changed" in run.stdout
        assert "Traceback" not in run.stdout
        assert not clean_engine.client.containers(all=True)


def test_the_prompt_asks_again_after_an_answer_it_does_not_know(
    clean_engine: Engine, tmp_path: Path
) -> None:
    write_specs(tmp_path, ONE_CONTAINER)

    run = run_on_pty(
        "apply",
        "specs",
        docker_host=clean_engine.host,
        typed="maybe\nno\n",
        env={"NO_COLOR": "1"},
        cwd=tmp_path,
    )

    assert run.exit_code == 1
    assert run.stdout.count("Apply these changes? [y/N]:") == 2
    assert "Please answer yes or no (y/n)." in run.stdout
