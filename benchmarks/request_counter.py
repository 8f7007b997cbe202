"""A counting proxy: a unix socket in front of the engine's that records every API request.

Point ``DOCKER_HOST`` at ``proxy.host`` and every client (volplan, the docker SDK, the
docker CLI) is counted the same way, with no change to the program measured. HTTP/1.1
requests are parsed just enough to find where each one ends (Content-Length or chunked
bodies); a connection upgraded for attach/exec turns into a plain byte pipe.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_CHUNK = 65536


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    at: float = 0.0
    """When the proxy read it, on ``time.perf_counter``'s clock."""

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class CountingProxy:
    """Forwards ``unix://<socket>`` to ``upstream`` (a ``unix://`` host) and records requests.

    With ``over_tcp`` it listens on a loopback TCP port instead, so the engine is reached
    the way a remote one is (``tcp://127.0.0.1:<port>``).
    """

    def __init__(
        self, upstream: str, directory: Path | None = None, *, over_tcp: bool = False
    ) -> None:
        if not upstream.startswith("unix://"):
            raise ValueError(f"the counting proxy needs a unix:// engine, got {upstream!r}")
        self.upstream = upstream.removeprefix("unix://")
        self._dir = Path(tempfile.mkdtemp(prefix="volplan-proxy-", dir=directory or "/tmp"))
        self.socket_path = self._dir / "docker.sock"
        if over_tcp:
            self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
            self.host = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        else:
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(str(self.socket_path))
            self._listener.listen(128)
            self.host = f"unix://{self.socket_path}"
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._closed = threading.Event()

    def __enter__(self) -> CountingProxy:
        threading.Thread(target=self._accept_loop, name="proxy-accept", daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closed.set()
        self._listener.close()
        self.socket_path.unlink(missing_ok=True)
        self._dir.rmdir()

    def take(self) -> list[Request]:
        """The requests recorded since the last ``take``, in arrival order; resets the record."""
        with self._lock:
            taken, self._requests = self._requests, []
        return taken

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.upstream)
        except OSError:
            client.close()
            return
        answers = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        answers.start()
        try:
            _RequestStream(client, upstream, self._record).run()
        finally:
            _half_close(upstream)
            answers.join()
            upstream.close()
            client.close()


def summarise(requests: list[Request]) -> Counter[str]:
    """Requests per method and path, the query string and object names left out."""
    return Counter(f"{r.method} {_route(r.path)}" for r in requests)


def _route(path: str) -> str:
    parts = path.split("?", maxsplit=1)[0].split("/")
    # /v1.41/containers/<id>/start -> /containers/{}/start
    if len(parts) > 1 and parts[1].startswith("v1."):
        parts = ["", *parts[2:]]
    if len(parts) > 3 or (len(parts) == 3 and parts[2] not in {"json", "create", "prune"}):
        parts[2] = "{}"
    return "/".join(parts)


class _RequestStream:
    """Reads requests from the client, records each, forwards it byte for byte."""

    def __init__(
        self, client: socket.socket, upstream: socket.socket, record: Callable[[Request], None]
    ) -> None:
        self.client = client
        self.upstream = upstream
        self.record = record
        self.buffer = b""

    def run(self) -> None:
        try:
            while self._forward_one():
                pass
        except OSError:
            return

    def _forward_one(self) -> bool:
        head = self._read_until(b"\r\n\r\n")
        if head is None:
            return False
        self.upstream.sendall(head)
        lines = head.decode("latin-1").split("\r\n")
        method, path = ([*lines[0].split(" "), "", ""])[:2]
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        self.record(Request(method, path, time.perf_counter()))
        if "upgrade" in headers.get("connection", "").lower():
            _pipe(self.client, self.upstream, self.buffer)
            return False
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return self._forward_chunked()
        return self._forward_exactly(int(headers.get("content-length", "0")))

    def _read_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            data = self.client.recv(_CHUNK)
            if not data:
                return None
            self.buffer += data
        end = self.buffer.index(marker) + len(marker)
        head, self.buffer = self.buffer[:end], self.buffer[end:]
        return head

    def _forward_exactly(self, size: int) -> bool:
        while size > 0:
            if not self.buffer:
                self.buffer = self.client.recv(_CHUNK)
                if not self.buffer:
                    return False
            part, self.buffer = self.buffer[:size], self.buffer[size:]
            self.upstream.sendall(part)
            size -= len(part)
        return True

    def _forward_chunked(self) -> bool:
        while True:
            line = self._read_until(b"\r\n")
            if line is None:
                return False
            self.upstream.sendall(line)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                trailer = self._read_until(b"\r\n")
                if trailer is None:
                    return False
                self.upstream.sendall(trailer)
                return True
            if not self._forward_exactly(size + 2):
                return False


def _pipe(source: socket.socket, target: socket.socket, pending: bytes = b"") -> None:
    """Copy bytes from ``source`` to ``target`` until ``source`` ends, then pass the end on."""
    try:
        if pending:
            target.sendall(pending)
        while data := source.recv(_CHUNK):
            target.sendall(data)
    except OSError:
        pass
    finally:
        _half_close(target)


def _half_close(sock: socket.socket) -> None:
    """Say "no more data" to the peer while still reading what it has to say."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
