"""The drift report as JUnit XML: one test case per resource, drift as failures. Pure.

Unclaimed dangling volumes are a suite of their own whose cases pass (information, with
the finding in ``system-out``), unless the report counts them, when they fail like drift.

CI dashboards (GitLab's test reports, Jenkins, GitHub test-reporter actions) read JUnit,
so a scheduled drift job shows which resources drifted the way failing tests show.
Built with ``xml.etree`` so names and messages are always escaped correctly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reconciler.diff.drift import DriftEntry, DriftReport, DriftStatus
from reconciler.fieldpath import format_path


def render_drift_junit(report: DriftReport) -> str:
    suites = ET.Element(
        "testsuites",
        name="volplan drift",
        tests=str(len(report.entries) + len(report.unclaimed)),
        failures=str(len(report.drifted)),
    )
    name = f"volplan drift: {', '.join(report.projects)}"
    _suite(suites, name, [(entry, True) for entry in report.entries])
    if report.unclaimed:
        unclaimed = "volplan drift: unclaimed dangling volumes"
        _suite(suites, unclaimed, [(entry, report.include_unclaimed) for entry in report.unclaimed])
    return junit_text(suites)


def drift_suite(parent: ET.Element, name: str, report: DriftReport) -> ET.Element:
    """The whole report as one suite (a fleet's target): its resources, then its
    unclaimed volumes, which fail only when the report counts them."""
    cases = [(entry, True) for entry in report.entries]
    cases += [(entry, report.include_unclaimed) for entry in report.unclaimed]
    return _suite(parent, name, cases)


def junit_text(suites: ET.Element) -> str:
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _suite(parent: ET.Element, name: str, cases: list[tuple[DriftEntry, bool]]) -> ET.Element:
    """``cases``: each entry, and whether its drift counts as a failure."""
    failing = [e for e, counts in cases if counts and e.status is not DriftStatus.IN_SYNC]
    suite = ET.SubElement(
        parent,
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(len(failing)),
        errors="0",
        skipped="0",
    )
    for entry, counts in cases:
        _test_case(suite, entry, failed=counts)
    return suite


def _test_case(suite: ET.Element, entry: DriftEntry, *, failed: bool) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=f"volplan.{entry.kind}", name=str(entry.address)
    )
    if entry.status is DriftStatus.IN_SYNC:
        return
    if not failed:
        ET.SubElement(case, "system-out").text = f"{entry.status}: {entry.reason}"
        return
    failure = ET.SubElement(
        case, "failure", type=entry.status.value, message=f"{entry.status}: {entry.reason}"
    )
    lines = [entry.reason]
    lines += [f"{format_path(c.path)}: live {c.before!r}, spec {c.after!r}" for c in entry.changes]
    if entry.origin is not None:
        lines.append(f"spec: {entry.origin}")
    if entry.destructive_fix:
        lines.append("fixing this destroys data")
    failure.text = "\n".join(lines)
