"""The one mapping of engine-call failures to volplan's ``EngineError``s, for both clients.

Reads on a local socket go through ``http.client``; writes, and everything on a TCP, TLS
or SSH endpoint, through docker-py and requests. Whichever raised it, a failure becomes the
same error here: an HTTP error status the matching ``errors.engine_error`` (404 not found,
409 conflict, 5xx server error), no answer in time ``EngineTimeout``, no connection
``EngineUnreachable``, and an answer that is not HTTP a plain ``EngineError``.

Neither client is imported to do it: an exception of a client's can exist only once that
client has been loaded, so their types are looked up among the loaded modules. A check
that never loads docker-py never pays for it, and a command that never reaches the engine
loads neither.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reconciler.errors import EngineError, EngineTimeout, EngineUnreachable, engine_error


@contextmanager
def engine_errors(doing: str) -> Iterator[None]:
    """Map a client's failure to the volplan error that names what was being done."""
    try:
        yield
    except Exception as exc:
        error = mapped(exc, doing)
        if error is None:
            raise
        raise error from exc


def mapped(exc: Exception, doing: str) -> EngineError | None:
    """The volplan error for ``exc``, or None for what is not a failure to reach the engine
    (a volplan error already, or a bug)."""
    if isinstance(exc, EngineError):
        return None
    return _sdk_error(exc, doing) or _ssh_error(exc, doing) or _stdlib_error(exc, doing)


def status_error(status: int, body: bytes, doing: str) -> EngineError:
    """An HTTP error answer, with the engine's own words (``{"message": ...}``)."""
    return _engine_error(status, doing, _message(body))


_PODMAN_NAME_IN_USE = "that name is already in use"


def _engine_error(status: int | None, doing: str, message: str) -> EngineError:
    """Podman (4.3) answers a create whose name is taken with 500 where dockerd answers
    409, its message ending ``that name is already in use``: the same conflict, which the
    lock waits on and recovery renames around (test_podman_differences pins it)."""
    if status == 500 and message.endswith(_PODMAN_NAME_IN_USE):
        status = 409
    return engine_error(status, f"{doing}: {message}")


def _sdk_error(exc: Exception, doing: str) -> EngineError | None:
    api_error = _loaded("docker.errors", "APIError")
    if api_error is not None and isinstance(exc, api_error):
        return _engine_error(exc.status_code, doing, _explanation(exc))
    if _is(exc, "requests.exceptions", "Timeout"):
        return _timeout(doing)
    if _is(exc, "requests.exceptions", "RequestException") or _is(
        exc, "docker.errors", "DockerException"
    ):
        reason = _innermost_ssl_error(exc)
        return _unreachable(doing, exc) if reason is None else _tls_refused(doing, reason)
    return None


def _ssh_error(exc: Exception, doing: str) -> EngineError | None:
    """paramiko's refusals on an ``ssh://`` endpoint: an unknown or changed host key
    (docker-py's ``RejectPolicy`` against ``~/.ssh/known_hosts``), a key not accepted."""
    if not _is(exc, "paramiko", "SSHException"):
        return None
    hint = ""
    if _is(exc, "paramiko", "BadHostKeyException") or "known_hosts" in str(exc):
        hint = (
            " (host keys are checked against ~/.ssh/known_hosts: add the server's key "
            "there once you have checked its fingerprint, e.g. by logging in with ssh)"
        )
    return EngineUnreachable(f"{doing}: ssh: {exc}{hint}")


def _stdlib_error(exc: Exception, doing: str) -> EngineError | None:
    if isinstance(exc, TimeoutError):
        return _timeout(doing)
    if isinstance(exc, OSError):  # no socket, refused, reset: RemoteDisconnected too
        return _unreachable(doing, exc)
    if _is(exc, "http.client", "HTTPException"):
        return EngineError(f"{doing}: the engine's answer is not HTTP ({exc!r})")
    return None


def _is(exc: BaseException, module: str, name: str) -> bool:
    kind = _loaded(module, name)
    return kind is not None and isinstance(exc, kind)


def _loaded(module: str, name: str) -> Any:
    """``module.name`` if that module is loaded and has it, else None. A module that
    another thread is importing right now is in ``sys.modules`` half made: what it does not
    define yet, nothing can have raised (a fleet's target mapped its failure while another
    imported docker-py and paramiko, and met a paramiko without ``SSHException``)."""
    return getattr(sys.modules.get(module), name, None)


def _tls_refused(doing: str, reason: BaseException) -> EngineUnreachable:
    """A failed TLS handshake names its cause, not "did not answer": the engine answered,
    and one side refused the other's certificate (a wrong CA, no client certificate)."""
    detail = getattr(reason, "verify_message", None)
    if detail:
        cause = f"the engine's certificate failed verification ({detail})"
    else:
        cause = f"the engine refused the handshake ({reason})"
    return EngineUnreachable(
        f"{doing}: TLS: {cause}; check the CA, client certificate and key "
        "(the context's TLS material, or DOCKER_CERT_PATH)"
    )


def _innermost_ssl_error(exc: BaseException) -> BaseException | None:
    """The ``ssl.SSLError`` under requests' and urllib3's wrappers, if there is one."""
    current: BaseException | None = exc
    for _ in range(8):
        if current is None or _is(current, "ssl", "SSLError"):
            return current
        inner: Any = getattr(current, "reason", None)
        if not isinstance(inner, BaseException) and current.args:
            inner = current.args[0]
        current = inner if isinstance(inner, BaseException) else current.__cause__
    return None


def _timeout(doing: str) -> EngineTimeout:
    return EngineTimeout(f"{doing}: the Docker engine did not answer in time")


def _unreachable(doing: str, exc: Exception) -> EngineUnreachable:
    return EngineUnreachable(f"{doing}: the Docker engine did not answer ({exc})")


def _explanation(exc: Any) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc)


def _message(body: bytes) -> str:
    """The engine's ``{"message": ...}``, else the body as text."""
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace").strip() or "no explanation"
