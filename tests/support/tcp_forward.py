"""The private engine behind a loopback TCP port, so that it is reached like a remote one."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class TcpToUnix:
    """Forwards ``tcp://127.0.0.1:<port>`` to a unix socket, a connection at a time each way."""

    def __init__(self, unix_host: str) -> None:
        self.socket_path = unix_host.removeprefix("unix://")
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> TcpToUnix:
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._listener.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            upstream.connect(self.socket_path)
            answers = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            answers.start()
            _pipe(client, upstream)
            answers.join()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)
