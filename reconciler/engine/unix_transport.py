"""The read path's transport on a local ``unix://`` socket: ``http.client`` over it.

A plan or drift check on a converged project is four GET requests, and on a small project
importing docker-py (with requests and urllib3) takes longer than the whole check. So on a
local socket the reads go through the standard library, and docker-py is imported only for
the first call that changes the engine. The adapter imports this module when it connects,
so commands that never reach the engine (``version``, ``--help``) do not load
``http.client`` (and the ``email`` and ``ssl`` modules it imports) either. Each request has
its own connection (``Connection: close``), so the apply's worker threads share nothing.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Generator, Mapping
from typing import Any

from reconciler.engine.error_map import engine_errors, status_error
from reconciler.engine.reads import CHUNK_BYTES, json_answer, mapped_chunks, request_path


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


class UnixSocketReads:
    """The reads, over ``http.client``, to the engine listening on ``socket_path``."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        self._socket_path = socket_path
        self._timeout = timeout
        self.api_prefix = ""
        """``/v1.41``-style prefix once ``negotiate`` has run; every later read is versioned."""

    def negotiate(self, doing: str) -> str:
        """Use the engine's own API version, as docker-py's ``version="auto"`` does."""
        version = str(self.get_json(doing, "/version")["ApiVersion"])
        self.api_prefix = f"/v{version}"
        return version

    def get_json(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Any:
        """``GET path_format``; ``doing`` names the call in errors."""
        connection = UnixConnection(self._socket_path, self._timeout)
        try:
            with engine_errors(doing):
                response = self._send(connection, path_format, args, params)
                body = response.read()
        finally:
            connection.close()
        return json_answer(response.status, body, doing)

    def get_stream(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Generator[bytes, None, None]:
        """The body of ``GET path_format`` in chunks, as it arrives; closing the generator
        closes the connection, so a reader may stop early."""
        connection = UnixConnection(self._socket_path, self._timeout)
        try:
            with engine_errors(doing):
                response = self._send(connection, path_format, args, params)
                if response.status >= 400:
                    raise status_error(response.status, response.read(), doing)
            yield from mapped_chunks(doing, lambda: response.read1(CHUNK_BYTES))
        finally:
            connection.close()

    def _send(
        self,
        connection: UnixConnection,
        path_format: str,
        args: tuple[str, ...],
        params: Mapping[str, str] | None,
    ) -> http.client.HTTPResponse:
        url = request_path(self.api_prefix, path_format, args, params)
        connection.request("GET", url, headers={"Connection": "close"})
        return connection.getresponse()
