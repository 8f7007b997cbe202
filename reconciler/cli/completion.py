"""Shell completion: ``volplan completion bash|zsh|fish`` prints the script to load.

The script calls volplan back with ``_VOLPLAN_COMPLETE`` set (click's protocol, through
typer); only then are the completion classes loaded (``enable_completion``), so a normal
command's start-up pays nothing for completion. The two functions come from the typer
modules that define them (``typer.completion`` imports them without re-exporting them);
pyproject.toml holds typer below its next minor.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from reconciler.cli.options import write_stdout

COMPLETE_VAR = "_VOLPLAN_COMPLETE"

completing = typer.Typer()


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


@completing.command(
    epilog="Install: bash: volplan completion bash > ~/.local/share/bash-completion/"
    'completions/volplan ; zsh: volplan completion zsh > "${fpath[1]}/_volplan" ; fish: '
    "volplan completion fish > ~/.config/fish/completions/volplan.fish ; or, for this "
    'shell only: eval "$(volplan completion bash)"'
)
def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")],
) -> None:
    """Print the shell's completion script for volplan (commands, options, choices)."""
    from typer._completion_shared import get_completion_script

    write_stdout(
        get_completion_script(prog_name="volplan", complete_var=COMPLETE_VAR, shell=shell.value)
        + "\n"
    )


def enable_completion() -> None:
    """Register the shells' completion classes: typer does so only for apps that add its
    own --install-completion option, which volplan leaves out."""
    from typer._completion_classes import completion_init

    completion_init()
