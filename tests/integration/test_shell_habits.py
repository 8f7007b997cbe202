"""The shell's habits: completion scripts that really complete, and ``python -m reconciler``."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import NO_ENGINE_HOST, cli_runner

from reconciler import __version__

BIN = Path(sys.executable).parent
"""The venv's bin folder, where the ``volplan`` entry point is."""


def _complete_in_bash(words: str) -> list[str]:
    """COMPREPLY after bash sources ``volplan completion bash`` and runs its completion
    function on the command line ``words`` (the cursor after its last word)."""
    script = subprocess.run(
        [BIN / "volplan", "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    split = words.split(" ")
    array = " ".join(shlex.quote(word) for word in split)
    driver = (
        f"{script}\n"
        f"COMP_WORDS=({array}); COMP_CWORD={len(split) - 1}\n"
        "_volplan_completion volplan\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {"PATH": f"{BIN}:{os.environ['PATH']}", "DOCKER_HOST": NO_ENGINE_HOST}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", driver],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_a_subcommand_an_option_and_a_choice() -> None:
    assert _complete_in_bash("volplan gr") == ["graph"]
    assert _complete_in_bash("volplan p") == ["plan"]
    assert "--detailed-exitcode" in _complete_in_bash("volplan plan --det")
    assert _complete_in_bash("volplan graph --format ") == ["mermaid", "dot"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _volplan_completion volplan"),
        ("zsh", "compdef _volplan_completion volplan"),
        ("fish", "complete --command volplan"),
    ],
)
def test_each_shell_gets_its_script(shell: str, marker: str) -> None:
    result = cli_runner(NO_ENGINE_HOST)("completion", shell)
    assert result.exit_code == 0, result.stderr
    assert marker in result.stdout
    assert "_VOLPLAN_COMPLETE=complete_" in result.stdout


def test_python_dash_m_reconciler_is_volplan() -> None:
    result = cli_runner(NO_ENGINE_HOST)("--version")  # runs python -m reconciler
    assert (result.exit_code, result.stdout) == (0, f"{__version__}\n")
    usage = cli_runner(NO_ENGINE_HOST)("no-such-command")
    assert usage.exit_code == 1
    assert "(see volplan --help)" in usage.stderr
