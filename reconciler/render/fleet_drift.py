"""A fleet's drift report for forges and CI: Markdown and JUnit, from its targets' results. Pure.

Markdown keeps the whole report under the forge's comment limit, the summary table first
and an equal share of what is left for each target; JUnit has one suite per target.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from reconciler.render.fleet import TargetResult
from reconciler.render.junit import drift_suite, junit_text
from reconciler.render.markdown import MAX_CHARS, cell, render_drift_markdown
from reconciler.render.words import counted


def render_fleet_drift_markdown(results: Sequence[TargetResult], *, json_hint: str) -> str:
    """The summary table, then each target's drift report in an equal share of the limit."""
    drifted = sum(r.pending for r in results)
    failed = sum(r.failed for r in results)
    head = (
        f"## volplan drift: {counted(len(results), 'target')}, {drifted} drifted, "
        f"{failed} failed\n\n| Target | Engine | Status | Details |\n|---|---|---|---|\n"
    )
    head += "".join(
        f"| {cell(r.name)} | {cell(r.endpoint)} | {r.status()} | {cell(r.detail())} |\n"
        for r in results
    )
    share = (MAX_CHARS - len(head)) // max(len(results), 1)
    sections = []
    for result in results:
        if result.drift is None:
            continue
        sections.append(
            render_drift_markdown(
                result.drift,
                json_hint=json_hint,
                title=f"### {cell(result.name)}",
                max_chars=share,
            )
        )
    return head + "\n" + "\n".join(sections)


def render_fleet_drift_junit(results: Sequence[TargetResult]) -> str:
    """One suite per target: its resources as cases, drift as failures, its error as one."""
    suites = ET.Element("testsuites", name="volplan drift")
    tests = failures = errors = 0
    for result in results:
        name = f"volplan drift: {result.name}"
        if result.drift is not None:
            suite = drift_suite(suites, name, result.drift)
        else:
            suite = ET.SubElement(
                suites, "testsuite", name=name, tests="1", failures="0", errors="1", skipped="0"
            )
            case = ET.SubElement(suite, "testcase", classname="volplan.target", name=result.name)
            ET.SubElement(
                case, "error", type="target-failed", message=result.error or ""
            ).text = result.error
        tests += int(suite.get("tests", "0"))
        failures += int(suite.get("failures", "0"))
        errors += int(suite.get("errors", "0"))
    suites.set("tests", str(tests))
    suites.set("failures", str(failures))
    suites.set("errors", str(errors))
    return junit_text(suites)
