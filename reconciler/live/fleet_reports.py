"""Each node's latest ``volplan watch`` status, read from a Swarm service's logs. Pure.

Swarm already gathers the logs of a service's tasks from every node, on the manager
(``GET /services/{id}/logs``), so volplan needs no channel of its own to see a fleet of
agents: each agent writes a status line to stdout after every sync, and this module
picks the latest one of each node out of the log bytes.

The bytes are what the Engine API sends with ``details=1&timestamps=1``: unless the
service has a TTY, a multiplexed stream of frames (an 8-byte header: the stream, three
zero bytes, the payload's length in 4 big-endian bytes), each payload one log line,
``TIMESTAMP ATTRS MESSAGE``, where ATTRS are the task's ``key=value`` pairs, URL-encoded
and comma-separated (``com.docker.swarm.node.id=...``). A message that is not a status
line (any other log line, or part of one the log driver split) is not a report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

STATUS_KIND = "volplan.watch.status"
STATUS_VERSION = 1
"""The status line's ``kind`` and ``version``, as ``watch.status_line`` writes them (a
layer above this one; tests/unit/test_fleet_reports.py reads what it writes)."""
NODE_ATTR = "com.docker.swarm.node.id"
TASK_ATTR = "com.docker.swarm.task.id"
HEADER_BYTES = 8
STREAMS = {0: "stdin", 1: "stdout", 2: "stderr"}

T = TypeVar("T")


@dataclass(frozen=True)
class LogLine:
    timestamp: str  # RFC 3339 with nanoseconds, fixed width: sorts as text
    attrs: Mapping[str, str]
    message: str


@dataclass(frozen=True)
class NodeReport:
    """A node's latest status line, as its agent wrote it."""

    node_id: str
    task_id: str
    logged_at: str
    engine_name: str
    engine_labels: Mapping[str, str]
    last_sync: str
    in_sync: bool
    drift: Mapping[str, int] = field(default_factory=dict)
    applies: int = 0
    failures: int = 0

    @property
    def drift_count(self) -> int:
        return sum(self.drift.values())


@dataclass(frozen=True)
class FleetReports:
    """The latest report of every node that wrote one, by node ID; ``unreadable`` counts
    lines that claimed to be a status but did not parse as one (another version's)."""

    nodes: tuple[NodeReport, ...]
    unreadable: int = 0

    @property
    def drifted(self) -> tuple[NodeReport, ...]:
        return tuple(n for n in self.nodes if not n.in_sync)


def latest_reports(body: bytes) -> FleetReports:
    """The latest status of each node in a service's log bytes (latest by log timestamp:
    a restarted task's lines come from a new container on the same node)."""
    latest: dict[str, NodeReport] = {}
    unreadable = 0
    for line in log_lines(body):
        try:
            report = status_report(line)
        except (KeyError, TypeError, ValueError):
            unreadable += 1
            continue
        if report is None:
            continue
        previous = latest.get(report.node_id)
        if previous is None or previous.logged_at <= report.logged_at:
            latest[report.node_id] = report
    return FleetReports(tuple(latest[n] for n in sorted(latest)), unreadable)


def log_lines(body: bytes) -> Iterator[LogLine]:
    """The stdout lines of a ``details=1&timestamps=1`` log body, multiplexed or not."""
    text = b"".join(stdout_payloads(body)) if _multiplexed(body) else body
    for raw in text.decode("utf-8", errors="replace").splitlines():
        line = parse_line(raw)
        if line is not None:
            yield line


def stdout_payloads(body: bytes) -> Iterator[bytes]:
    """The stdout frames' payloads; a frame cut short at the end is dropped."""
    offset = 0
    while offset + HEADER_BYTES <= len(body):
        stream = body[offset]
        length = int.from_bytes(body[offset + 4 : offset + HEADER_BYTES], "big")
        payload = body[offset + HEADER_BYTES : offset + HEADER_BYTES + length]
        offset += HEADER_BYTES + length
        if len(payload) < length:
            return
        if STREAMS.get(stream) == "stdout":
            yield payload


def _multiplexed(body: bytes) -> bool:
    """A TTY service's logs are the bare text, which never starts with a frame header
    (a timestamp starts with a digit, a header with byte 0, 1 or 2 and three zeros)."""
    return len(body) >= HEADER_BYTES and body[0] in STREAMS and body[1:4] == bytes(3)


def parse_line(raw: str) -> LogLine | None:
    """``TIMESTAMP ATTRS MESSAGE``; None for a line without the attributes."""
    timestamp, _, rest = raw.partition(" ")
    attrs_text, _, message = rest.partition(" ")
    attrs = dict(_attr(pair) for pair in attrs_text.split(",") if "=" in pair)
    if NODE_ATTR not in attrs:
        return None
    return LogLine(timestamp, attrs, message)


def _attr(pair: str) -> tuple[str, str]:
    key, _, value = pair.partition("=")
    return unquote(key), unquote(value)


def status_report(line: LogLine) -> NodeReport | None:
    """The report in a log line; None if the line is not a status line at all. Raises
    KeyError, TypeError or ValueError for a status line of another shape."""
    if not line.message.startswith("{"):
        return None
    try:
        status = json.loads(line.message)
    except ValueError:
        return None  # a JSON log line cut in two by the log driver, or no JSON at all
    if not isinstance(status, dict) or status.get("kind") != STATUS_KIND:
        return None
    if status.get("version") != STATUS_VERSION:
        raise ValueError(f"status version {status.get('version')!r}")
    engine = _mapping(status.get("engine", {}))
    return NodeReport(
        node_id=line.attrs[NODE_ATTR],
        task_id=line.attrs.get(TASK_ATTR, ""),
        logged_at=line.timestamp,
        engine_name=str(engine.get("name", "")),
        engine_labels=_labels(engine.get("labels") or {}),
        last_sync=str(status.get("last_sync") or ""),
        in_sync=_typed(status["in_sync"], bool),
        drift={str(k): _typed(v, int) for k, v in _mapping(status.get("drift", {})).items()},
        applies=_typed(status.get("applies", 0), int),
        failures=_typed(status.get("failures", 0), int),
    )


def _labels(value: Any) -> dict[str, str]:
    """``{"k": "v"}``, or ``/info``'s own ``["k=v", ...]``."""
    if isinstance(value, list):
        return {k: v for k, _, v in (str(entry).partition("=") for entry in value)}
    return {str(k): str(v) for k, v in _mapping(value).items()}


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {value!r}")
    return value


def _typed(value: Any, kind: type[T]) -> T:
    """``value`` if it is a ``kind`` (a bool is no int here: JSON keeps them apart)."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value
