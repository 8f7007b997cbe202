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
    groups = [(f"volplan drift: {', '.join(report.projects)}", report.entries, True)]
    if report.unclaimed:
        unclaimed = "volplan drift: unclaimed dangling volumes"
        groups.append((unclaimed, report.unclaimed, report.include_unclaimed))
    for name, entries, counts in groups:
        failing = [e for e in entries if e.status is not DriftStatus.IN_SYNC] if counts else []
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=name,
            tests=str(len(entries)),
            failures=str(len(failing)),
            errors="0",
            skipped="0",
        )
        for entry in entries:
            _test_case(suite, entry, failed=counts)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


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
