"""A pytest plugin printing how many inputs each fuzz test tried, from xdist workers too.

Fuzz tests record their count with ``record_property("fuzz_inputs", n)``; user properties
travel with the test reports to the controlling process, which prints the section.
"""

from __future__ import annotations

import pytest

_counts: dict[str, int] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        for name, value in report.user_properties:
            if name == "fuzz_inputs" and isinstance(value, int):
                _counts[report.nodeid] = value


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _counts:
        return
    terminalreporter.section("fuzz inputs tried")
    for nodeid, count in sorted(_counts.items()):
        terminalreporter.write_line(f"{count:>9}  {nodeid}")
    terminalreporter.write_line(f"{sum(_counts.values()):>9}  in total")
