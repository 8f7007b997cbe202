"""Each node's latest ``volplan watch`` status, from a Swarm service's log bytes.

``data/service-logs.bin`` is the answer of a real Docker 20.10.24 swarm manager to
``GET /v1.41/services/agent/logs?stdout=1&details=1&timestamps=1``, recorded byte for
byte from a 2-node swarm made by ``tests/support/swarm.py``. The global service ran, on
each node, a script printing the status line three times (the third with drift on the
node whose engine is labelled ``role=edge``), a plain log line after each, and a last
status line of a made-up version 2.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from reconciler.engine.fake import FAKE_INFO
from reconciler.live.fleet_reports import (
    HEADER_BYTES,
    latest_reports,
    log_lines,
    parse_line,
    stdout_payloads,
)
from reconciler.render.fleet_status import fleet_status_document, render_fleet_status
from reconciler.watch.status_line import WatchStatus, status_line

RECORDED = (Path(__file__).parent / "data" / "service-logs.bin").read_bytes()
CORE, EDGE = "kysysr7998fmi7iztagwnfkjw", "9cj9parqhbvd1moqvibg9mekp"


def frame(payload: bytes, stream: int = 1) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def frames(body: bytes) -> list[bytes]:
    return [frame(payload) for payload in stdout_payloads(body)]


def logged_status(node: str, logged_at: str, **status: object) -> bytes:
    body = {"kind": "volplan.watch.status", "version": 1, "in_sync": True, **status}
    attrs = f"com.docker.swarm.node.id={node},com.docker.swarm.task.id=t1"
    return f"{logged_at} {attrs} {json.dumps(body)}\n".encode()


def test_the_recording_gives_each_nodes_latest_status() -> None:
    reports = latest_reports(RECORDED)
    assert [n.node_id for n in reports.nodes] == sorted([CORE, EDGE])
    edge, core = reports.nodes
    assert (edge.engine_labels, edge.in_sync, dict(edge.drift)) == (
        {"role": "edge", "zone": "a"},
        False,
        {"edge": 1},
    )
    assert (core.engine_labels, core.in_sync, core.drift_count) == ({"role": "core"}, True, 0)
    assert (edge.applies, core.applies, edge.failures) == (2, 2, 0)
    assert edge.last_sync == "2026-12-01T23:52:02.000000Z"
    assert reports.drifted == (edge,)
    assert reports.unreadable == 2  # each node's version-2 line


def test_every_line_of_the_recording_names_its_node_and_task() -> None:
    lines = list(log_lines(RECORDED))
    assert len(lines) == 2 * 8
    assert {line.attrs["com.docker.swarm.node.id"] for line in lines} == {CORE, EDGE}
    assert all(line.attrs["com.docker.swarm.task.id"] for line in lines)
    assert sum(line.message == "in sync" for line in lines) == 5


def test_latest_is_by_log_time_not_by_arrival() -> None:
    """The manager merges the nodes' streams; a restarted task's lines may come first."""
    shuffled = b"".join(reversed(frames(RECORDED)))
    assert latest_reports(shuffled) == latest_reports(RECORDED)


def test_a_frame_cut_short_at_the_end_is_dropped_and_the_rest_read() -> None:
    cut = RECORDED + frame(logged_status(CORE, "2099-01-01T00:00:00.000000000Z"))[:-5]
    assert latest_reports(cut) == latest_reports(RECORDED)


def test_stderr_frames_are_not_reports() -> None:
    late = logged_status(CORE, "2099-01-01T00:00:00.000000000Z", in_sync=False)
    assert latest_reports(RECORDED + frame(late, stream=2)) == latest_reports(RECORDED)
    assert not latest_reports(RECORDED + frame(late)).nodes[1].in_sync


def test_a_tty_service_logs_bare_text_read_the_same() -> None:
    bare = b"".join(stdout_payloads(RECORDED))
    assert bare[:HEADER_BYTES] != RECORDED[:HEADER_BYTES]
    assert latest_reports(bare) == latest_reports(RECORDED)


def test_lines_that_are_not_status_lines_are_ignored() -> None:
    body = b"".join(
        frame(line)
        for line in (
            b"2026-12-01T23:50:00.000000000Z com.docker.swarm.node.id=n1 {not json\n",
            b'2026-12-01T23:50:00.000000000Z com.docker.swarm.node.id=n1 {"kind": "other"}\n',
            b"2026-12-01T23:50:00.000000000Z com.docker.swarm.node.id=n1 [1, 2]\n",
            b'2026-12-01T23:50:00.000000000Z {"kind": "volplan.watch.status"}\n',
        )
    )
    assert latest_reports(body).nodes == ()
    assert latest_reports(body).unreadable == 0


def test_a_status_line_of_the_wrong_shape_is_counted_not_shown() -> None:
    body = frame(logged_status("n1", "2026-12-01T23:50:00.000000000Z", applies="3"))
    body += frame(logged_status("n1", "2026-12-01T23:50:01.000000000Z", in_sync=1))
    assert latest_reports(body).nodes == ()
    assert latest_reports(body).unreadable == 2


def test_attributes_are_url_decoded() -> None:
    raw = "2026-12-01T23:50:00Z com.docker.swarm.node.id=n%2C1,x%3Dy=a%20b hello world"
    line = parse_line(raw)
    assert line is not None
    assert dict(line.attrs) == {"com.docker.swarm.node.id": "n,1", "x=y": "a b"}
    assert line.message == "hello world"


def test_engine_labels_may_be_info_style_pairs() -> None:
    engine = {"labels": ["role=edge", "zone=a=b"], "name": "node-2"}
    body = frame(logged_status("n1", "2026-12-01T23:50:00.000000000Z", engine=engine))
    (node,) = latest_reports(body).nodes
    assert node.engine_name == "node-2"
    assert dict(node.engine_labels) == {"role": "edge", "zone": "a=b"}


def test_the_text_has_one_row_per_node_and_names_what_drifted() -> None:
    text = render_fleet_status("agent", latest_reports(RECORDED)).plain
    assert text == (
        "Service agent: 2 nodes reporting, 1 drifted\n"
        "NODE          ENGINE  LABELS            LAST SYNC                    STATE    DRIFT"
        "  APPLIES  FAILURES\n"
        "9cj9parqhbvd  vm      role=edge,zone=a  2026-12-01T23:52:02.000000Z  drift    1"
        "      2        0\n"
        "kysysr7998fm  vm      role=core         2026-12-01T23:52:02.000000Z  in sync  0"
        "      2        0\n"
        "9cj9parqhbvd drifted in: edge (1)\n"
        "2 status lines of another format ignored (an agent of another volplan version?)\n"
    )


def test_the_json_document_has_every_node_in_full() -> None:
    document = fleet_status_document("agent", latest_reports(RECORDED))
    assert document["kind"] == "fleet-status"
    assert document["in_sync"] is False
    assert [n["node_id"] for n in document["nodes"]] == [EDGE, CORE]
    assert document["nodes"][0]["drift"] == {"edge": 1}
    assert document["nodes"][0]["engine_labels"] == {"role": "edge", "zone": "a"}
    assert document["unreadable_status_lines"] == 2


def test_what_the_watch_writes_is_what_fleet_status_reads() -> None:
    engine = replace(FAKE_INFO, name="node-2", node_id=EDGE, labels={"role": "edge"})
    status = WatchStatus("default", engine, 1_764_633_600, {"shop": 2, "blog": 0}, 3, 1)
    line = status_line(status, now=1_764_633_601).rstrip("\n")
    attrs = f"com.docker.swarm.node.id={EDGE},com.docker.swarm.task.id=t1"
    logged = f"2025-12-02T00:00:01.000000000Z {attrs} {line}\n".encode()
    (node,) = latest_reports(frame(logged)).nodes
    assert (node.node_id, node.engine_name, dict(node.engine_labels)) == (
        EDGE,
        "node-2",
        {"role": "edge"},
    )
    assert (node.last_sync, node.in_sync, dict(node.drift)) == (
        "2025-12-02T00:00:00Z",
        False,
        {"blog": 0, "shop": 2},
    )
    assert (node.applies, node.failures, node.drift_count) == (3, 1, 2)
