"""The pure parts of ``volplan watch``: the unattended cut of a plan, the status line, the
metrics address, and which events matter."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

import pytest

from reconciler.apply.applier import apply_plan
from reconciler.engine.fake import FAKE_INFO, FakeEngine
from reconciler.engine.records import EngineEvent, parse_event
from reconciler.engine.transport import json_lines
from reconciler.errors import AddressError, EngineUnreachable
from reconciler.live.fleet_reports import NODE_ATTR, parse_line, status_report
from reconciler.pipeline import Specs
from reconciler.pipeline import plan as plan_specs
from reconciler.plan.actions import Plan
from reconciler.plan.unattended import split_unattended
from reconciler.watch.events import Disconnected, EventFollower, Interest, Message
from reconciler.watch.metrics import ListenAddress
from reconciler.watch.status_line import WatchStatus, status_line
from specs import ALLOW_DATA_LOSS, desired_from, key_of

V1 = """
version: 1
project: shop
volumes:
  data: {labels: {rev: "1"}}
  logs: {}
containers:
  app:
    image: busybox
    mounts: ["data:/data", "logs:/logs"]
  side:
    image: busybox
    mounts: ["logs:/logs"]
"""


def _plan(text: str, engine: FakeEngine) -> Plan:
    return plan_specs(Specs((), desired_from(text)), engine).plan


def test_a_replaced_volume_holds_back_what_the_plan_arranged_around_it() -> None:
    engine = FakeEngine()
    apply_plan(_plan(V1, engine), engine, options=ALLOW_DATA_LOSS)
    engine.containers.pop(next(i for i, c in engine.containers.items() if c["Names"] == ["/side"]))
    changed = V1.replace('rev: "1"', 'rev: "2"')

    split = split_unattended(_plan(changed, engine))

    assert [key_of(a) for a in split.unattended.actions] == ["container.side:create"]
    assert sorted(key_of(a) for a in split.held_back) == [
        "container.app:create",
        "container.app:remove",
        "volume.data:replace",
    ]


def test_a_plan_with_nothing_destructive_runs_whole() -> None:
    engine = FakeEngine()
    whole = _plan(V1, engine)
    split = split_unattended(whole)
    assert split.unattended == whole
    assert split.held_back == ()


def test_the_status_line_is_one_json_object_in_a_fixed_format() -> None:
    status = WatchStatus("default", FAKE_INFO, 0.0, {"shop": 1, "billing": 0}, 3, 1)
    line = status_line(status, 60.0)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert json.loads(line) == {
        "kind": "volplan.watch.status",
        "version": 1,
        "time": "1970-01-01T00:01:00Z",
        "target": "default",
        "engine": {"id": "FAKE:DAEMON", "name": "fake", "labels": {}, "node_id": None},
        "last_sync": "1970-01-01T00:00:00Z",
        "in_sync": False,
        "drift": {"billing": 0, "shop": 1},
        "applies": 3,
        "failures": 1,
    }


def test_fleet_status_reads_the_status_line_as_written() -> None:
    info = replace(FAKE_INFO, labels={"role": "edge"}, node_id="node1")
    line = status_line(WatchStatus("default", info, 0.0, {"shop": 2}, 3, 1), 60.0)
    logged = parse_line(f"2026-12-02T00:01:00.000000000Z {NODE_ATTR}=node1 {line.rstrip()}")
    assert logged is not None
    report = status_report(logged)
    assert report is not None
    assert (report.node_id, report.engine_name, report.engine_labels) == (
        "node1",
        "fake",
        {"role": "edge"},
    )
    assert (report.in_sync, report.drift, report.applies, report.failures) == (
        False,
        {"shop": 2},
        3,
        1,
    )


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:9100", "127.0.0.1", 9100),
        ("127.1.2.3:0", "127.1.2.3", 0),
        ("[::1]:80", "::1", 80),
    ],
)
def test_loopback_metrics_addresses_are_taken(text: str, host: str, port: int) -> None:
    assert ListenAddress.parse(text) == ListenAddress(host, port)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0.0.0.0:9100", "loopback address only"),
        ("192.0.2.1:9100", "loopback address only"),
        ("[::]:9100", "loopback address only"),
        ("localhost:9100", "give a loopback IP address and a port"),
        ("127.0.0.1", "give a loopback IP address and a port"),
        ("127.0.0.1:70000", "give a loopback IP address and a port"),
    ],
)
def test_other_metrics_addresses_are_refused(text: str, says: str) -> None:
    with pytest.raises(AddressError, match=says):
        ListenAddress.parse(text)


def _event(kind: str, name: str, **attributes: str) -> dict[str, object]:
    actor = {"ID": name if kind == "volume" else "c0ffee", "Attributes": attributes}
    if kind == "container":
        actor["Attributes"] = {"name": name, **attributes}
    return {"Type": kind, "Action": "destroy", "Actor": actor, "timeNano": 1}


def test_only_events_about_the_specs_resources_or_projects_matter() -> None:
    interest = Interest.of(desired_from(V1))
    relevant = [
        _event("container", "app"),
        _event("container", "app_volplan-old", **{"io.volplan.project": "shop"}),
        _event("volume", "data"),
    ]
    ignored = [
        _event("container", "volplan-lock-shop", **{"io.volplan.lock": "shop"}),
        _event("container", "other", **{"io.volplan.project": "billing"}),
        _event("volume", "someone-elses"),
    ]
    assert all(interest.relevant(parse_event(e)) for e in relevant)
    assert not any(interest.relevant(parse_event(e)) for e in ignored)


def test_event_lines_are_taken_whole_however_the_chunks_cut_them() -> None:
    first, second = (json.dumps(_event("volume", n)).encode() for n in ("data", "logs"))
    stream = first + b"\n" + second + b"\n"
    chunks = [stream[i : i + 7] for i in range(0, len(stream), 7)]
    events = [parse_event(raw) for raw in json_lines(chunks, "following")]
    assert [e.name for e in events] == ["data", "logs"]


def test_the_follower_passes_events_on_then_reports_a_lost_stream() -> None:
    engine = FakeEngine()
    engine.event_log.append({**_event("volume", "data"), "timeNano": time.time_ns()})
    messages: queue.Queue[Message] = queue.Queue()
    stop = threading.Event()
    EventFollower(engine, messages, stop).start(since=time.time() - 60)
    first = messages.get(timeout=10)
    stop.set()
    assert isinstance(first, EngineEvent)
    assert first.name == "data"

    class Gone(FakeEngine):
        def events(
            self, since: float, until: float, filters: Mapping[str, Sequence[str]]
        ) -> Iterator[EngineEvent]:
            raise EngineUnreachable("the engine went away")

    EventFollower(Gone(), messages, threading.Event()).start(since=time.time())
    lost = messages.get(timeout=10)
    while isinstance(lost, EngineEvent):  # the first follower's last ones
        lost = messages.get(timeout=10)
    assert isinstance(lost, Disconnected)
    assert "went away" in str(lost.error)
