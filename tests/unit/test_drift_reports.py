"""The drift report and its renderers, from fake-engine states: pure, no Docker."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from support.gitops import validate

from reconciler import labels
from reconciler.apply.applier import apply_plan
from reconciler.diff.differ import diff_states
from reconciler.diff.drift import DriftEntry, DriftReport, DriftStatus, build_drift_report
from reconciler.engine.base import ContainerCreate, VolumeCreate
from reconciler.engine.fake import FAKE_INFO, FakeEngine
from reconciler.identity import ResourceKind
from reconciler.live.reader import read_live_state
from reconciler.model import Change, Mount, MountKind
from reconciler.plan.document import dumps
from reconciler.plan.planner import make_plan
from reconciler.render.drift_text import render_drift, render_drift_summary
from reconciler.render.json import drift_document
from reconciler.render.junit import render_drift_junit
from reconciler.render.markdown import MAX_CHARS, render_drift_markdown
from specs import ALLOW_DATA_LOSS, desired_from

SPEC = """
version: 1
project: shop
volumes:
  data: {}
  spare: {}
containers:
  app: {image: busybox, mounts: ["data:/data"]}
"""


def _drifted_engine() -> FakeEngine:
    engine = FakeEngine()
    desired = desired_from(SPEC)
    live = read_live_state(engine)
    apply_plan(
        make_plan(desired, live, diff_states(desired, live)), engine, options=ALLOW_DATA_LOSS
    )
    engine.remove_volume("spare")
    engine.create_volume(VolumeCreate("orphan", "local", {}, {}))
    engine.create_volume(VolumeCreate("old", "local", {}, {labels.PROJECT: "shop"}))
    engine.create_container(
        ContainerCreate("peek", "busybox", None, {}, (Mount("/p", MountKind.VOLUME, "data"),))
    )
    return engine


def _report(engine: FakeEngine) -> DriftReport:
    desired = desired_from(SPEC)
    live = read_live_state(engine)
    return build_drift_report(desired, live, diff_states(desired, live))


def test_each_category_is_found_and_ordered_for_a_reader() -> None:
    report = _report(_drifted_engine())

    assert [(str(e.address), e.status.value) for e in report.entries] == [
        ("volume.old", "not-in-specs"),
        ("volume.spare", "missing"),
        ("container.peek", "unmanaged-user"),
        ("container.app", "in-sync"),
        ("volume.data", "in-sync"),
    ]
    assert [(str(e.address), e.status.value) for e in report.unclaimed] == [
        ("volume.orphan", "dangling")
    ]
    assert report.counts() == {
        "changed": 0,
        "missing": 1,
        "not-in-specs": 1,
        "unmanaged-user": 1,
        "dangling": 0,
        "in-sync": 2,
        "total": 5,
    }
    assert not report.in_sync


def _unclaimed_only(*, include: bool) -> DriftReport:
    """A converged project next to a dangling volume nobody claims."""
    engine = FakeEngine()
    desired = desired_from(SPEC)
    live = read_live_state(engine)
    apply_plan(
        make_plan(desired, live, diff_states(desired, live)), engine, options=ALLOW_DATA_LOSS
    )
    engine.create_volume(VolumeCreate("orphan", "local", {}, {}))
    live = read_live_state(engine)
    return build_drift_report(desired, live, diff_states(desired, live), include_unclaimed=include)


def test_unclaimed_volumes_are_information_unless_included() -> None:
    quiet, counted = _unclaimed_only(include=False), _unclaimed_only(include=True)

    assert quiet.in_sync
    assert quiet.drifted == ()
    assert (quiet.counts()["dangling"], quiet.counts()["total"]) == (0, 3)
    assert not counted.in_sync
    assert [str(e.address) for e in counted.drifted] == ["volume.orphan"]
    assert (counted.counts()["dangling"], counted.counts()["total"]) == (1, 4)


def test_unclaimed_volumes_have_their_own_section_in_every_format() -> None:
    quiet, counted = _unclaimed_only(include=False), _unclaimed_only(include=True)

    text = render_drift(quiet).plain.splitlines()
    assert "1 unclaimed dangling volume, not drift (--include-unclaimed counts them):" in text
    assert "? dangling       volume.orphan" in text
    assert text[-1] == (
        "No drift: 3 resources match the specs. "
        "1 unclaimed dangling volume, not drift (--include-unclaimed counts them)."
    )
    assert render_drift_summary(counted).plain == (
        "Drift: 1 of 4 resources (1 dangling, 3 in-sync).\n"
    )

    document = drift_document(quiet)
    validate(document, "drift.schema.json")
    assert (document["in_sync"], document["include_unclaimed"]) == (True, False)
    assert [r["address"] for r in document["unclaimed"]] == ["volume.orphan"]
    assert "volume.orphan" not in [r["address"] for r in document["resources"]]
    assert drift_document(counted)["in_sync"] is False

    root = ET.fromstring(render_drift_junit(quiet))
    assert root.get("failures") == "0"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    info = suites["volplan drift: unclaimed dangling volumes"]
    assert (info.get("tests"), info.get("failures")) == ("1", "0")
    case = info.find("testcase")
    assert case is not None
    assert case.find("failure") is None
    assert getattr(case.find("system-out"), "text", "").startswith("dangling: used by no")
    counted_root = ET.fromstring(render_drift_junit(counted))
    assert counted_root.get("failures") == "1"
    assert len(list(counted_root.iter("failure"))) == 1

    markdown = render_drift_markdown(quiet, json_hint="x")
    assert "No drift: the engine matches the specs.\n" in markdown
    assert "1 unclaimed dangling volume, not drift" in markdown
    assert "- `volume.orphan`\n" in markdown
    counted_md = render_drift_markdown(counted, json_hint="x")
    assert "| `volume.orphan` | dangling | no |" in counted_md


def test_json_report_matches_its_schema_and_is_deterministic() -> None:
    engine = _drifted_engine()

    first, second = dumps(drift_document(_report(engine))), dumps(drift_document(_report(engine)))

    assert first == second
    validate(json.loads(first), "drift.schema.json")


def test_junit_has_one_case_per_resource_and_escapes_everything() -> None:
    entry = DriftEntry(
        ResourceKind.VOLUME, 'a<b>&"c', DriftStatus.CHANGED, "x < y & z", (Change(("p",), 1, 2),)
    )
    report = DriftReport(
        FAKE_INFO,
        ("shop",),
        (entry, DriftEntry(ResourceKind.VOLUME, "ok", DriftStatus.IN_SYNC, "")),
    )

    root = ET.fromstring(render_drift_junit(report))

    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = list(suite.iter("testcase"))
    assert [c.get("name") for c in cases] == ['volume.a<b>&"c', "volume.ok"]
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.text == "x < y & z\np: live 1, spec 2"
    assert cases[1].find("failure") is None


def test_markdown_stays_under_the_comment_limit_with_destructive_rows_first() -> None:
    changed = [
        DriftEntry(ResourceKind.CONTAINER, f"c{i:05}", DriftStatus.CHANGED, "config differs " * 8)
        for i in range(3000)
    ]
    destructive = DriftEntry(
        ResourceKind.VOLUME, "pgdata", DriftStatus.CHANGED, "driver | differs", destructive_fix=True
    )
    report = DriftReport(FAKE_INFO, ("shop",), (destructive, *changed))

    text = render_drift_markdown(report, json_hint="volplan drift specs --format json")

    assert len(text) < MAX_CHARS
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows[0] == "| `volume.pgdata` | changed | **yes** | driver \\| differs |"
    assert 0 < len(rows) < 3001
    assert text.rstrip().endswith("`volplan drift specs --format json`.")
    assert f"{3001 - len(rows)} more drifted resources" in text


def test_markdown_for_an_engine_in_sync() -> None:
    report = DriftReport(
        FAKE_INFO, ("shop",), (DriftEntry(ResourceKind.VOLUME, "a", DriftStatus.IN_SYNC, ""),)
    )

    text = render_drift_markdown(report, json_hint="x")

    assert text.endswith("No drift: the engine matches the specs.\n")
