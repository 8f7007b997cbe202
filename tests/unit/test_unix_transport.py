"""The standard-library read path, against a real unix socket that answers canned bytes.

The integration tests show it reading a real engine; these make it meet what an engine
rarely sends on demand: a 500, a 404, a chunked body, silence, garbage, no socket at all,
and a stream its reader stops early.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine.transport import Request
from reconciler.engine.unix_transport import UnixSocketTransport
from reconciler.errors import (
    EngineError,
    EngineNotFound,
    EngineServerError,
    EngineTimeout,
    EngineUnreachable,
)


class CannedEngine:
    """Answers every connection with ``answer`` (or nothing, when None) and keeps requests."""

    def __init__(self, path: Path, answer: bytes | None, *, linger: bool = False) -> None:
        self.path = path
        self.answer = answer
        self.linger = linger
        """Keep the connection open after the answer, until the reader closes it."""
        self.requests: list[bytes] = []
        self.closed_by_reader = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(8)
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.requests.append(_whole_request(client))
            if self.answer is None:
                self._held.append(client)  # silent: the reader must time out
                continue
            client.sendall(self.answer)
            if self.linger and not client.recv(1):
                self.closed_by_reader.set()
            client.close()

    def close(self) -> None:
        self._listener.close()
        for held in self._held:
            held.close()


def _whole_request(client: socket.socket) -> bytes:
    """The request's head and its Content-Length body, however the client's sends cut it
    (``http.client`` sends a body apart from the head): answering before it is all in
    would make the client's last send fail with a broken pipe."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := client.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    while length and len(body) < int(length[1]) and (chunk := client.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def canned(tmp_path: Path) -> Iterator[list[CannedEngine]]:
    engines: list[CannedEngine] = []
    yield engines
    for engine in engines:
        engine.close()


def reads_answering(
    tmp_path: Path, canned: list[CannedEngine], answer: bytes | None, *, linger: bool = False
) -> UnixSocketTransport:
    engine = CannedEngine(tmp_path / "engine.sock", answer, linger=linger)
    canned.append(engine)
    return UnixSocketTransport(str(engine.path), timeout=0.3)


def response(status: str, body: bytes, *, chunked: bool = False) -> bytes:
    if chunked:
        halves = [body[: len(body) // 2], body[len(body) // 2 :]]
        body = b"".join(b"%x\r\n%s\r\n" % (len(h), h) for h in halves) + b"0\r\n\r\n"
        length = b"Transfer-Encoding: chunked"
    else:
        length = b"Content-Length: %d" % len(body)
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n%s\r\n\r\n%s" % (
        status.encode(),
        length,
        body,
    )


@pytest.mark.parametrize("chunked", [False, True])
def test_a_json_answer_is_read_whole_chunked_or_not(
    tmp_path: Path, canned: list[CannedEngine], chunked: bool
) -> None:
    body = b'[{"Id": "abc", "Names": ["/caf\xc3\xa9"]}]'
    reads = reads_answering(tmp_path, canned, response("200 OK", body, chunked=chunked))

    answer = reads.get_json("listing containers", "/containers/json", params={"all": "1"})

    assert answer == [{"Id": "abc", "Names": ["/café"]}]
    request = canned[0].requests[0]
    assert request.startswith(b"GET /containers/json?all=1 HTTP/1.1\r\n")
    assert b"\r\nConnection: close\r\n" in request  # one request per connection


def test_the_api_version_is_agreed_once_and_prefixes_every_later_read(
    tmp_path: Path, canned: list[CannedEngine]
) -> None:
    pong = b"HTTP/1.1 200 OK\r\nAPI-Version: 1.41\r\nContent-Length: 2\r\n\r\n{}"
    reads = reads_answering(tmp_path, canned, pong)

    assert reads.negotiate("connecting") == "1.41"
    reads.get_json("inspecting image busybox:latest", "/images/{}/json", "library/busybox:1 x")

    assert canned[0].requests[0].startswith(b"GET /_ping HTTP/1.1")
    assert canned[0].requests[1].startswith(b"GET /v1.41/images/library/busybox:1%20x/json ")


def test_an_engine_whose_ping_names_no_version_is_asked_its_version(
    tmp_path: Path, canned: list[CannedEngine]
) -> None:
    reads = reads_answering(tmp_path, canned, response("200 OK", b'{"ApiVersion": "1.40"}'))

    assert reads.negotiate("connecting") == "1.40"

    assert canned[0].requests[0].startswith(b"GET /_ping HTTP/1.1")
    assert canned[0].requests[1].startswith(b"GET /version HTTP/1.1")


@pytest.mark.parametrize(
    ("status", "error"),
    [("404 Not Found", EngineNotFound), ("500 Internal Server Error", EngineServerError)],
)
def test_an_error_status_becomes_the_matching_error_with_the_engines_words(
    tmp_path: Path, canned: list[CannedEngine], status: str, error: type[EngineError]
) -> None:
    reads = reads_answering(tmp_path, canned, response(status, b'{"message": "engine words"}'))

    with pytest.raises(error, match=r"^inspecting container x: engine words$"):
        reads.get_json("inspecting container x", "/containers/{}/json", "x")


def test_silence_is_a_timeout(tmp_path: Path, canned: list[CannedEngine]) -> None:
    reads = reads_answering(tmp_path, canned, None)

    with pytest.raises(EngineTimeout, match=r"listing volumes: .* did not answer in time"):
        reads.get_json("listing volumes", "/volumes")


def test_no_socket_is_unreachable(tmp_path: Path) -> None:
    reads = UnixSocketTransport(str(tmp_path / "missing.sock"), timeout=0.3)

    with pytest.raises(EngineUnreachable, match="No such file or directory"):
        reads.get_json("listing volumes", "/volumes")


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH_9.2\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nshort",
        response("200 OK", b"<html>not json</html>"),
    ],
)
def test_an_answer_that_is_not_http_json_is_an_engine_error(
    tmp_path: Path, canned: list[CannedEngine], answer: bytes
) -> None:
    reads = reads_answering(tmp_path, canned, answer)

    with pytest.raises(EngineError, match=r"^listing volumes: the engine's answer is not"):
        reads.get_json("listing volumes", "/volumes")


def test_a_stream_yields_chunks_as_they_come_and_closing_it_hangs_up(
    tmp_path: Path, canned: list[CannedEngine]
) -> None:
    """An emptiness check reads the start of a tar and stops: the engine must see the
    connection close then, not after the whole volume was sent."""
    first = b"4\r\ntar1\r\n"  # the first chunk, and the rest never comes
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\n"
    reads = reads_answering(
        tmp_path, canned, head + b"Transfer-Encoding: chunked\r\n\r\n" + first, linger=True
    )

    stream = reads.get_stream("reading /data", "/containers/{}/archive", "h", params={"path": "/"})
    assert next(stream) == b"tar1"
    stream.close()

    assert canned[0].closed_by_reader.wait(5)
    assert canned[0].requests[0].startswith(b"GET /containers/h/archive?path=%2F HTTP/1.1")


def test_a_whole_stream_is_read_to_its_end(tmp_path: Path, canned: list[CannedEngine]) -> None:
    body = bytes(range(256)) * 64
    reads = reads_answering(tmp_path, canned, response("200 OK", body, chunked=True))

    assert b"".join(reads.get_stream("reading /data", "/containers/h/archive")) == body


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (response("404 Not Found", b'{"message": "no such path"}'), EngineNotFound, "no such"),
        (None, EngineTimeout, "did not answer in time"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", EngineError, "the engine's answer is not HTTP"),
    ],
)
def test_a_stream_fails_like_a_read(
    tmp_path: Path,
    canned: list[CannedEngine],
    answer: bytes | None,
    error: type[EngineError],
    words: str,
) -> None:
    reads = reads_answering(tmp_path, canned, answer)

    with pytest.raises(error, match=rf"^reading /data: .*{words}"):
        next(reads.get_stream("reading /data", "/containers/h/archive"))


def test_a_change_sends_its_json_body(tmp_path: Path, canned: list[CannedEngine]) -> None:
    transport = reads_answering(tmp_path, canned, response("201 Created", b'{"Id": "c1"}'))

    created = transport.send(
        "creating container app",
        Request("POST", "/containers/create", params={"name": "app"}, json={"Image": "busybox"}),
    )

    assert created == b'{"Id": "c1"}'
    sent = canned[0].requests[0]
    assert sent.startswith(b"POST /containers/create?name=app HTTP/1.1\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in sent
    assert sent.endswith(b'\r\n\r\n{"Image":"busybox"}')


def test_a_tar_is_a_body_of_chunks_and_json_is_encoded_once() -> None:
    """Both transports send what ``Request.body`` gives (an iterator is sent chunked):
    the real engine takes it in the backup, restore and lease tests."""
    tar = Request("PUT", "/containers/{}/archive", ("a",), {"path": "/d"}, chunks=[b"ab", b"c"])
    plain = Request("POST", "/containers/{}/start", ("a",))

    body = tar.body()
    assert not isinstance(body, bytes | None)
    assert b"".join(body) == b"abc"
    assert tar.content_type == "application/x-tar"
    assert tar.path("/v1.41") == "/v1.41/containers/a/archive?path=%2Fd"
    assert plain.body() is None
    assert Request("POST", "/x", json={"A": 1}).body() == b'{"A":1}'


class AllAtOnceEngine:
    """Answers nothing until ``expected`` requests are in, each on its own connection; then
    each with its path as a JSON string, or with a 500 for a path in ``failing``."""

    def __init__(self, path: Path, expected: int, failing: tuple[str, ...] = ()) -> None:
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(8)
        self.expected = expected
        self.failing = failing
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        waiting: list[tuple[socket.socket, str]] = []
        while len(waiting) < self.expected:
            client, _ = self._listener.accept()
            path = _whole_request(client).split(b" ")[1].decode()
            waiting.append((client, path))
        for client, path in waiting:
            if any(fragment in path for fragment in self.failing):
                client.sendall(response("500 Internal Server Error", b'{"message": "boom"}'))
            else:
                client.sendall(response("200 OK", b'"%s"' % path.encode()))
            client.close()

    def close(self) -> None:
        self._listener.close()


CALLS = [
    ("reading engine info", Request("GET", "/info")),
    ("listing volumes", Request("GET", "/volumes")),
    ("listing containers", Request("GET", "/containers/json", params={"all": "1"})),
]


def test_get_json_all_sends_every_request_before_it_reads_an_answer(tmp_path: Path) -> None:
    engine = AllAtOnceEngine(tmp_path / "engine.sock", expected=len(CALLS))
    reads = UnixSocketTransport(str(tmp_path / "engine.sock"), timeout=2)
    reads.api_prefix = "/v1.41"
    try:
        answers = reads.get_json_all(CALLS)
    finally:
        engine.close()

    assert answers == ["/v1.41/info", "/v1.41/volumes", "/v1.41/containers/json?all=1"]


def test_get_json_all_raises_the_failing_calls_error(tmp_path: Path) -> None:
    engine = AllAtOnceEngine(tmp_path / "engine.sock", len(CALLS), failing=("/volumes",))
    reads = UnixSocketTransport(str(tmp_path / "engine.sock"), timeout=2)
    try:
        with pytest.raises(EngineServerError, match=r"^listing volumes: .*boom"):
            reads.get_json_all(CALLS)
    finally:
        engine.close()
