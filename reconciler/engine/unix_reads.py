"""Engine reads over a local unix socket, with the standard library alone.

A plan or drift check on a converged project is four GET requests, and on a small project
importing docker-py (with requests and urllib3) takes longer than the whole check: about
70 ms of a 150 ms floor. So on a ``unix://`` endpoint the adapter sends its reads, GETs
answered with JSON, through this module, and loads docker-py only for the first call that
changes the engine or streams. A read needs little of HTTP/1.1: one request per connection
(``Connection: close``, so the answer ends where the stream does and the apply's worker
threads share nothing), a status line, and a body that may come chunked. ``http.client``
would bring ``ssl`` and ``email`` along, a tenth of a small check's start-up.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from reconciler.errors import EngineError, EngineTimeout, EngineUnreachable, engine_error


class UnixSocketReads:
    """GET requests with JSON answers to the engine listening on ``socket_path``."""

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
        """``GET path_format`` with ``args`` quoted into it as docker-py quotes them (an image
        reference keeps its ``/`` and ``:``); ``doing`` names the call in errors."""
        url = self.api_prefix + path_format.format(*(quote(a, safe="/:") for a in args))
        if params:
            url += "?" + urlencode(params)
        status, body = self._exchange(url, doing)
        if status >= 400:
            raise engine_error(status, f"{doing}: {_message(body)}")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise EngineError(f"{doing}: the engine's answer is not JSON ({exc})") from exc

    def _exchange(self, url: str, doing: str) -> tuple[int, bytes]:
        request = f"GET {url} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self._timeout)
                sock.connect(self._socket_path)
                sock.sendall(request.encode())
                raw = _read_to_end(sock)
        except TimeoutError as exc:
            raise EngineTimeout(f"{doing}: the Docker engine did not answer in time") from exc
        except OSError as exc:
            raise EngineUnreachable(f"{doing}: the Docker engine did not answer ({exc})") from exc
        try:
            return _parse_response(raw)
        except ValueError as exc:
            raise EngineError(f"{doing}: the engine's answer is not HTTP ({exc})") from exc


def _read_to_end(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while chunk := sock.recv(_RECV_BYTES):
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_response(raw: bytes) -> tuple[int, bytes]:
    """Status and body of a whole HTTP/1.1 response; ``ValueError`` if it is not one."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not separator or not version.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise ValueError(f"it begins {status_line[:60]!r}")
    status = rest[:3]
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _unchunk(body)
    return int(status), body


def _unchunk(body: bytes) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return b"".join(parts)
        if len(rest) < size + 2:
            raise ValueError("the chunked answer ended early")
        parts.append(rest[:size])
        body = rest[size + 2 :]


_RECV_BYTES = 1 << 16


def _message(body: bytes) -> str:
    """The engine's ``{"message": ...}``, else the body as text."""
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace").strip() or "no explanation"
