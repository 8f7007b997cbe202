"""One mapping of failures for both clients: docker-py's and requests' exceptions, and the
standard library's, become the same volplan errors. The real-socket cases are in
test_unix_transport.py and the real-engine ones in tests/integration/test_engine_errors.py."""

from __future__ import annotations

import http.client
import sys
import types

import docker.errors
import pytest
import requests

from reconciler.engine.error_map import engine_errors, status_error
from reconciler.errors import (
    EngineConflict,
    EngineError,
    EngineNotFound,
    EngineServerError,
    EngineTimeout,
    EngineUnreachable,
)


def _api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("engine said", response, explanation=explanation)


@pytest.mark.parametrize(
    ("failure", "error", "words"),
    [
        (_api_error(404, "no such container"), EngineNotFound, "no such container"),
        (_api_error(409, "name already in use"), EngineConflict, "name already in use"),
        (_api_error(500, "internal"), EngineServerError, "internal"),
        (_api_error(500, "...: that name is already in use"), EngineConflict, "in use"),  # Podman
        (requests.exceptions.ReadTimeout("read timed out"), EngineTimeout, "in time"),
        (TimeoutError("timed out"), EngineTimeout, "in time"),
        (requests.exceptions.ConnectionError("refused"), EngineUnreachable, "refused"),
        (docker.errors.DockerException("bad TLS config"), EngineUnreachable, "bad TLS config"),
        (FileNotFoundError(2, "No such file or directory"), EngineUnreachable, "No such file"),
        (http.client.BadStatusLine("SSH-2.0"), EngineError, "answer is not HTTP"),
    ],
)
def test_every_client_failure_names_what_was_being_done(
    failure: Exception, error: type[EngineError], words: str
) -> None:
    expected = pytest.raises(error, match=rf"^starting container app: .*{words}")
    with expected as raised, engine_errors("starting container app"):
        raise failure
    assert raised.value.__cause__ is failure


def test_what_is_not_a_client_failure_passes_through() -> None:
    with pytest.raises(KeyError), engine_errors("listing volumes"):
        raise KeyError("Volumes")
    already = EngineNotFound("inspecting x: no such container")
    with pytest.raises(EngineNotFound) as raised, engine_errors("listing volumes"):
        raise already
    assert raised.value is already


def test_podmans_taken_name_is_a_conflict_on_the_socket_path_too() -> None:
    """The ``http.client`` read path maps the same body the same way (Podman 4.3's 500)."""
    body = b'{"cause": "that name is already in use", "message": "the container name \\"a\\"'
    body += b' is already in use by 1f. ...: that name is already in use", "response": 500}'
    assert isinstance(status_error(500, body, "creating container a"), EngineConflict)
    assert isinstance(status_error(500, b'{"message": "in use"}', "x"), EngineServerError)


@pytest.mark.parametrize("module", ["paramiko", "docker.errors", "requests.exceptions"])
def test_a_client_module_another_thread_is_still_importing_is_no_failure_of_its(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module half imported is in ``sys.modules`` without its exceptions yet: a failure
    meanwhile is mapped as if that client were not loaded (a fleet's unreachable target
    crashed the run while another target imported docker-py and paramiko)."""
    monkeypatch.setitem(sys.modules, module, types.ModuleType(module))

    with pytest.raises(EngineUnreachable, match="did not answer"), engine_errors("connecting"):
        raise FileNotFoundError(2, "No such file or directory")
