"""``volplan watch``'s Prometheus metrics and ``/healthz``, served on a loopback address.

The metrics are ``prometheus_client``'s, in a registry of their own (the process and
platform collectors of its default registry say nothing about volplan). Only ``watch``
imports this module, so no other command pays for loading the library.

Why loopback only: the endpoint needs no credentials and names the projects, the
resources that drifted and how often the engine was changed, from a process that holds
the engine's socket; an address that others can reach is for a proxy in front of it to
offer, with the authentication that proxy adds.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from reconciler.errors import AddressError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

HEAL_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Seconds from an event to its heal: the target is under 2 s, the lock's wait can add 30."""


@dataclass(frozen=True)
class ListenAddress:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> ListenAddress:
        """``127.0.0.1:9100`` or ``[::1]:9100``: an IP literal on a loopback network (a name
        would need a resolver to say where it points); port 0 takes a free port."""
        host, separator, port = text.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        try:
            address = ipaddress.ip_address(host)
            number = int(port)
        except ValueError:
            address, number = None, -1
        if not separator or address is None or not 0 <= number <= 65535:
            raise AddressError(
                f"--metrics-addr {text!r}: give a loopback IP address and a port, e.g. "
                "127.0.0.1:9100 or [::1]:9100"
            )
        if not address.is_loopback:
            raise AddressError(
                f"--metrics-addr {text!r}: metrics and /healthz are served on a loopback "
                "address only (127.0.0.0/8 or ::1): they need no credentials and describe "
                "what the engine holds; put an authenticating proxy in front to publish them"
            )
        return cls(str(address), number)


class WatchMetrics:
    """The gauges, counters and histogram the watch keeps, per target (and project)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._projects: dict[str, set[str]] = {}
        r = self.registry
        self.drift = Gauge(
            "volplan_watch_drift_resources",
            "Resources that differ from the specs, per project and target.",
            ["target", "project"],
            registry=r,
        )
        self.last_sync = Gauge(
            "volplan_watch_last_sync_timestamp_seconds",
            "When the engine was last read in full and compared with the specs (Unix time).",
            ["target"],
            registry=r,
        )
        self.engine_up = Gauge(
            "volplan_watch_engine_up",
            "1 while the engine answers, 0 while the watch reconnects to it.",
            ["target"],
            registry=r,
        )
        self.applies = Counter(
            "volplan_watch_applies",
            "Heals applied (each a plan of one or more actions) that succeeded.",
            ["target"],
            registry=r,
        )
        self.failures = Counter(
            "volplan_watch_failures",
            "Heals that failed (an action failed, the lock was lost, the engine went away).",
            ["target"],
            registry=r,
        )
        self.heal_seconds = Histogram(
            "volplan_watch_heal_seconds",
            "Seconds from the first event of a burst to the end of the heal it led to.",
            ["target"],
            buckets=HEAL_BUCKETS,
            registry=r,
        )

    def declare(self, target: str) -> None:
        """Make the target's series exist from the start, at zero: a dashboard tells a
        target with no failure from one that reports nothing."""
        self.applies.labels(target=target)
        self.failures.labels(target=target)
        self.heal_seconds.labels(target=target)
        self.engine_up.labels(target=target)

    def set_drift(self, target: str, counts: Mapping[str, int]) -> None:
        """The drift of every project the target's specs hold; a project no longer there
        (or placed on other engines now) has its series removed, not left at its last value."""
        for project in self._projects.get(target, set()) - counts.keys():
            self.drift.remove(target, project)
        for project, count in counts.items():
            self.drift.labels(target=target, project=project).set(count)
        self._projects[target] = set(counts)


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: that is the watch's log, one line per drift."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class MetricsServer:
    """``/metrics`` and ``/healthz`` served from a thread until ``close``."""

    def __init__(
        self, address: ListenAddress, metrics: WatchMetrics, health: Callable[[], list[str]]
    ) -> None:
        """``health`` returns what is wrong, one line each; nothing: healthy."""
        self._metrics_app = make_wsgi_app(metrics.registry)
        self._health = health
        self._address = address
        self._server = make_server(
            address.host,
            address.port,
            self._app,
            server_class=_ThreadingServer6 if ":" in address.host else _ThreadingServer,
            handler_class=_QuietHandler,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="volplan-metrics", daemon=True
        )

    @property
    def url(self) -> str:
        host = self._address.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self._server.server_port}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            problems = self._health()
            status = "503 Service Unavailable" if problems else "200 OK"
            body = "".join(f"{p}\n" for p in problems) or "ok\n"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [body.encode()]
        if path in {"/metrics", "/"}:
            return self._metrics_app(environ, start_response)  # type: ignore[no-any-return]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: try /metrics or /healthz\n"]
