"""The drift report as JUnit XML: one test case per resource, drift as failures. Pure.

CI dashboards (GitLab's test reports, Jenkins, GitHub test-reporter actions) read JUnit,
so a scheduled drift job shows which resources drifted the way failing tests show.
Built with ``xml.etree`` so names and messages are always escaped correctly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reconciler.diff.drift import DriftEntry, DriftReport, DriftStatus
from reconciler.fieldpath import format_path


def render_drift_junit(report: DriftReport) -> str:
    failures = str(len(report.drifted))
    tests = str(len(report.entries))
    suites = ET.Element("testsuites", name="volplan drift", tests=tests, failures=failures)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"volplan drift: {', '.join(report.projects)}",
        tests=tests,
        failures=failures,
        errors="0",
        skipped="0",
    )
    for entry in report.entries:
        _test_case(suite, entry)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _test_case(suite: ET.Element, entry: DriftEntry) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=f"volplan.{entry.kind}", name=str(entry.address)
    )
    if entry.status is DriftStatus.IN_SYNC:
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
