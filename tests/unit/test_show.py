"""Reports printed without rich's layout where there is no colour: the same bytes as rich."""

from __future__ import annotations

import io
from typing import Literal

import pytest
from rich.console import Console
from rich.text import Text

from reconciler.cli.options import show


def console(file: io.StringIO, *, terminal: bool = False) -> Console:
    colours: Literal["standard", "auto"] = "standard" if terminal else "auto"
    return Console(
        file=file, highlight=False, soft_wrap=True, force_terminal=terminal, color_system=colours
    )


REPORTS = [
    Text.assemble(("+ create", "green"), " volume.data\n", ("  ~ labels", "yellow"), ": {}"),
    Text("a line far longer than any terminal " * 20 + "\n\n  trailing spaces   \n"),
    Text("wide 漢字 and émoji 🐳 | control \x07bell \x1b[31mescape\x1b[0m \r\x0b\x0c end"),
    Text("tab\tstop\n\tindented"),  # rich expands tabs by cell width: its own path
    Text(""),
]


@pytest.mark.parametrize("report", REPORTS)
@pytest.mark.parametrize("end", ["\n", ""])
def test_without_colour_the_bytes_are_richs_own(report: Text, end: str) -> None:
    ours, richs = io.StringIO(), io.StringIO()

    show(console(ours), report, end=end)
    console(richs).print(report, end=end)

    assert ours.getvalue() == richs.getvalue()


def test_on_a_colour_terminal_rich_renders_the_styles() -> None:
    file = io.StringIO()

    show(console(file, terminal=True), REPORTS[0])

    assert "\x1b[32m+ create\x1b[0m" in file.getvalue()
