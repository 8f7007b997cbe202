"""A fleet's aggregated reports, from made-up drift reports: pure, no Docker."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.fleet import Fleet
from reconciler.diff.drift import DriftEntry, DriftReport, DriftStatus
from reconciler.engine.fake import FAKE_INFO
from reconciler.errors import SpecError
from reconciler.identity import ResourceKind
from reconciler.render.fleet import TargetResult, exit_code
from reconciler.render.fleet_drift import render_fleet_drift_markdown
from reconciler.render.markdown import MAX_CHARS


def drifted(count: int) -> DriftReport:
    entries = tuple(
        DriftEntry(ResourceKind.CONTAINER, f"c{i:05}", DriftStatus.CHANGED, "config differs " * 8)
        for i in range(count)
    )
    unclaimed = tuple(
        DriftEntry(ResourceKind.VOLUME, f"v{i:05}", DriftStatus.DANGLING, "unused")
        for i in range(count)
    )
    return DriftReport(FAKE_INFO, ("shop",), entries, unclaimed)


def test_the_fleets_markdown_stays_under_the_comment_limit_and_names_every_target() -> None:
    results = [
        TargetResult(f"edge-{n}", f"tcp://edge-{n}:2376", drift=drifted(2000)) for n in range(12)
    ]
    results.append(TargetResult("gone", "unix:///nobody.sock", error="did not answer"))

    text = render_fleet_drift_markdown(results, json_hint="volplan drift specs --format json")

    assert len(text) < MAX_CHARS
    assert text.startswith("## volplan drift: 13 targets, 12 drifted, 1 failed\n")
    for n in range(12):
        assert (
            f"| edge-{n} | tcp://edge-{n}:2376 | drift | 2000 of 2000 resources drifted |" in text
        )
        assert f"### edge-{n}: 2000 of 2000 resources drifted" in text
    assert "| gone | unix:///nobody.sock | failed | did not answer |" in text


@pytest.mark.parametrize(
    ("results", "code"),
    [
        ([TargetResult("a1", "x", drift=drifted(0))], 0),
        ([TargetResult("a1", "x", drift=drifted(1)), TargetResult("b1", "y", drift=drifted(0))], 2),
        ([TargetResult("a1", "x", drift=drifted(1)), TargetResult("b1", "y", error="gone")], 1),
    ],
)
def test_exit_codes_failed_over_pending_over_ok(results: list[TargetResult], code: int) -> None:
    assert exit_code(results) == code


def test_a_targets_mistyped_scheme_is_an_error_at_its_host(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text(
        "version: 1\ntargets:\n  a1:\n    host: unix:///x.sock\n  b1:\n    host: htp://b1\n"
    )

    with pytest.raises(SpecError) as caught:
        Fleet.read(path, None, 4)

    (problem,) = caught.value.problems
    assert (problem.position.line, problem.position.column, problem.path) == (
        6,
        11,
        "targets.b1.host",
    )
    assert "'htp://b1' is not an engine address" in problem.message
