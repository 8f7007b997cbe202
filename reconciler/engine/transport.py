"""The engine's one request path: JSON requests and answers, and the archive stream. Pure.

Every request is built, checked and decoded here, whichever client carries it: the path
and its quoting (``request_path``), an error status (``error_map.status_error``), the JSON
(``json_answer``) and a stream's chunks (``mapped_chunks``). Two transports carry them: on
a local ``unix://`` socket ``unix_transport.UnixSocketTransport`` (``http.client``, so
neither a check nor an apply loads docker-py), elsewhere the adapter's ``SdkTransport``
(docker-py's requests session, which knows TLS and SSH). JSON goes through orjson both
ways: a fleet's plan decodes every engine's list answers on one interpreter.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import orjson

from reconciler.engine.error_map import engine_errors, status_error
from reconciler.errors import EngineError

CHUNK_BYTES = 1 << 20
"""The most of a stream (a tar of a volume) read at a time: what has arrived, up to this."""


class Transport(Protocol):
    """Carries requests to the engine; ``doing`` names the call in errors."""

    def get_json(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Any: ...

    def get_json_all(self, calls: Sequence[tuple[str, Request]]) -> list[Any]:
        """The answers of GET requests (each with its ``doing``) the engine works on at
        once, in their order."""
        ...

    def get_stream(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Generator[bytes, None, None]:
        """The body in chunks as it arrives; closing the generator closes the response, so
        a reader may stop early (an emptiness check reads two tar entries)."""
        ...

    def send(self, doing: str, request: Request, *, timeout: float | None = None) -> bytes:
        """``request``, its answer's body once the status is checked. ``timeout`` replaces
        the transport's own for a call that may take longer (a stop waits for the
        container)."""
        ...


@dataclass(frozen=True)
class Request:
    """One request to the engine: ``method path_format`` with ``args`` quoted into
    it and ``params`` as the query (``request_path``), and its body: ``json``, or a tar
    streamed from ``chunks`` (chunked), or none."""

    method: str
    path_format: str
    args: tuple[str, ...] = ()
    params: Mapping[str, str] | None = None
    json: Any = None
    chunks: Iterable[bytes] | None = None

    def path(self, prefix: str) -> str:
        return request_path(prefix, self.path_format, self.args, self.params)

    def body(self) -> bytes | Iterator[bytes] | None:
        if self.chunks is not None:
            return iter(self.chunks)
        return None if self.json is None else orjson.dumps(self.json)

    @property
    def content_type(self) -> str:
        return "application/x-tar" if self.chunks is not None else "application/json"


def request_path(
    prefix: str, path_format: str, args: tuple[str, ...], params: Mapping[str, str] | None
) -> str:
    """``prefix + path_format`` with ``args`` quoted into it as docker-py quotes them (an
    image reference keeps its ``/`` and ``:``), and ``params`` as the query."""
    path = prefix + path_format.format(*(quote(a, safe="/:") for a in args))
    return f"{path}?{urlencode(params)}" if params else path


def checked_answer(status: int, body: bytes, doing: str) -> bytes:
    if status >= 400:
        raise status_error(status, body, doing)
    return body


def json_answer(status: int, body: bytes, doing: str) -> Any:
    try:
        return orjson.loads(checked_answer(status, body, doing))
    except ValueError as exc:
        raise EngineError(f"{doing}: the engine's answer is not JSON ({exc})") from exc


def json_lines(chunks: Iterable[bytes], doing: str) -> Iterator[Any]:
    """The JSON documents of a stream that sends one per line (``/events``), each as soon as
    its line is complete, however the chunks cut the lines."""
    pending = b""
    for chunk in chunks:
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if line.strip():
                yield json_answer(200, line, doing)


def mapped_chunks(doing: str, read: Callable[[], bytes]) -> Generator[bytes, None, None]:
    """The chunks ``read`` returns until an empty one, its failures mapped like any other."""
    while True:
        with engine_errors(doing):
            chunk = read()
        if not chunk:
            return
        yield chunk
