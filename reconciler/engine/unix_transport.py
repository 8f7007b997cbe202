"""The transport on a local ``unix://`` socket: ``http.client`` over it.

A plan or drift check on a converged project is five GET requests, and on a small project
importing docker-py (with requests and urllib3) takes longer than the whole check; an
apply's creates cost a third of the CPU per request that they cost through requests
(measured: 0.3 against 0.8 ms), which is what a fleet's one interpreter spends most of its
time on. So on a local socket every request goes through the standard library, and
docker-py is imported only for what it alone does here (pulls, image imports, writing
archives). The adapter imports this module when it connects, so commands that never reach
the engine (``version``, ``--help``) do not load ``http.client`` (and the ``email`` and
``ssl`` modules it imports) either. Each request has its own connection (``Connection:
close``), so the apply's worker threads share nothing.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from reconciler.engine.error_map import engine_errors, status_error
from reconciler.engine.transport import (
    CHUNK_BYTES,
    Request,
    checked_answer,
    json_answer,
    mapped_chunks,
)


class UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 to the engine listening on a unix socket at ``socket_path``."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class UnixSocketTransport:
    """``Transport`` over ``http.client`` to the engine listening on ``socket_path``."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        self._socket_path = socket_path
        self._timeout = timeout
        self.api_prefix = ""
        """``/v1.41``-style prefix once ``negotiate`` has run; every later request is
        versioned."""

    def negotiate(self, doing: str) -> str:
        """Use the engine's own API version, as docker-py's ``version="auto"`` does, read
        as the docker CLI reads it: from the ``API-Version`` header of ``/_ping``. A ping
        costs the engine nothing, where ``/version`` has dockerd run ``runc`` and
        ``docker-init`` to report their versions (13 ms against 0.5 ms here, before any
        other request can go out); an engine whose ping does not say is asked ``/version``."""
        version = self._pinged_version(doing)
        if version is None:
            version = str(self.get_json(doing, "/version")["ApiVersion"])
        self.api_prefix = f"/v{version}"
        return version

    def _pinged_version(self, doing: str) -> str | None:
        response, _ = self._exchange(doing, Request("GET", "/_ping"))
        version = response.getheader("API-Version")
        return version if response.status < 400 and version else None

    def get_json(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Any:
        """``GET path_format``; ``doing`` names the call in errors."""
        response, body = self._exchange(doing, Request("GET", path_format, args, params))
        return json_answer(response.status, body, doing)

    def get_json_all(self, calls: Sequence[tuple[str, Request]]) -> list[Any]:
        """Every request sent first, each on its own connection, then the answers read in
        order: the engine works on them all at once, and no thread waits here for each
        (a fleet's targets would be five threads each, taking turns at the interpreter)."""
        connections: list[UnixConnection] = []
        try:
            for doing, request in calls:
                connection = UnixConnection(self._socket_path, self._timeout)
                connections.append(connection)
                with engine_errors(doing):
                    self._request(connection, request)
            return [
                self._answer(doing, connection)
                for (doing, _), connection in zip(calls, connections, strict=True)
            ]
        finally:
            for connection in connections:
                connection.close()

    def _answer(self, doing: str, connection: UnixConnection) -> Any:
        with engine_errors(doing):
            response = connection.getresponse()
            body = response.read()
        return json_answer(response.status, body, doing)

    def send(self, doing: str, request: Request, *, timeout: float | None = None) -> bytes:
        response, body = self._exchange(doing, request, timeout)
        return checked_answer(response.status, body, doing)

    def get_stream(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Generator[bytes, None, None]:
        """The body of ``GET path_format`` in chunks, as it arrives; closing the generator
        closes the connection, so a reader may stop early."""
        connection = UnixConnection(self._socket_path, self._timeout)
        try:
            with engine_errors(doing):
                response = self._send(connection, Request("GET", path_format, args, params))
                if response.status >= 400:
                    raise status_error(response.status, response.read(), doing)
            yield from mapped_chunks(doing, lambda: response.read1(CHUNK_BYTES))
        finally:
            connection.close()

    def _exchange(
        self, doing: str, request: Request, timeout: float | None = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        """One request on a connection of its own: the answer, and its whole body."""
        connection = UnixConnection(self._socket_path, timeout or self._timeout)
        try:
            with engine_errors(doing):
                response = self._send(connection, request)
                return response, response.read()
        finally:
            connection.close()

    def _send(self, connection: UnixConnection, request: Request) -> http.client.HTTPResponse:
        self._request(connection, request)
        return connection.getresponse()

    def _request(self, connection: UnixConnection, request: Request) -> None:
        """``http.client`` sends an iterator body (a tar's chunks) with chunked encoding."""
        headers = {"Connection": "close"}
        body = request.body()
        if body is not None:
            headers["Content-Type"] = request.content_type
        connection.request(request.method, request.path(self.api_prefix), body, headers)
