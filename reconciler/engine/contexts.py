"""Which engine a run talks to: ``--host``, ``--context``, the environment and the docker
CLI's context store, resolved the way the docker CLI (28) resolves them.

The endpoint is chosen here, before the adapter connects, from plain data; the files are
read at the edge (``resolve_endpoint``) and everything else is pure:

1. ``--context`` and ``--host`` together are refused, as the CLI refuses them;
2. ``--context NAME`` names the context; else ``--host`` or ``DOCKER_HOST`` means the
   ``default`` context; else ``DOCKER_CONTEXT``; else the docker config's
   ``currentContext`` (``$DOCKER_CONFIG/config.json``, ``~/.docker/config.json``); else
   ``default``;
3. ``default`` is ``--host``, ``DOCKER_HOST`` or the local socket, with TLS when
   ``DOCKER_TLS_VERIFY`` or ``DOCKER_TLS`` is set (not empty: ``0`` too, as in the CLI),
   its files in ``DOCKER_CERT_PATH`` (default: the docker config folder);
4. any other context is ``contexts/meta/<sha256 of its name>/meta.json`` in the config
   folder, its TLS files ``contexts/tls/<sha256>/docker/{ca,cert,key}.pem``.

One deliberate difference: the CLI warns about a config.json it cannot parse and goes on
with ``default``; volplan refuses (``ContextError``), as a reconciler aimed at the local
engine by mistake could change the wrong host.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ContextError

DEFAULT_CONTEXT = "default"
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
DEFAULT_TLS_HOST = "tcp://localhost:2376"
"""The CLI's address with TLS on and no host given (``dopts.ParseHost``)."""
CONTEXT_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$")
"""The CLI's rule for a context name (``store.ValidateContextName``)."""
TLS_FILES = ("ca.pem", "cert.pem", "key.pem")


@dataclass(frozen=True)
class TlsMaterial:
    """TLS for an endpoint: the files that exist, and whether the server is verified."""

    ca: Path | None
    cert: Path | None
    key: Path | None
    verify: bool


@dataclass(frozen=True)
class Endpoint:
    """An engine address in any ``DOCKER_HOST`` form, where it came from, and its TLS."""

    host: str
    context: str = DEFAULT_CONTEXT
    tls: TlsMaterial | None = None


def resolve_endpoint(
    host: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoint:
    """The endpoint the docker CLI would use given ``--host``/``--context`` and ``environ``
    (default: this process's environment), reading the config and context store."""
    env = os.environ if environ is None else environ
    folder = config_dir(env)
    name = context_name(host, context, env, lambda: current_context(folder))
    if name == DEFAULT_CONTEXT:
        return default_endpoint(host, env, folder, _existing)
    return context_endpoint(name, folder)


def config_dir(environ: Mapping[str, str]) -> Path:
    """``DOCKER_CONFIG``, else ``~/.docker`` (the CLI's ``config.Dir``)."""
    configured = environ.get("DOCKER_CONFIG")
    if configured:
        return Path(configured)
    return Path(environ.get("HOME") or Path.home()) / ".docker"


def context_name(
    host: str | None,
    context: str | None,
    environ: Mapping[str, str],
    current: Callable[[], str | None],
) -> str:
    """The context's name, by the CLI's precedence (``resolveContextName``); ``current``
    reads the config's ``currentContext`` only when it is needed."""
    if context and host:
        raise ContextError("conflicting options: cannot specify both --host and --context")
    if context:
        return context
    if host or environ.get("DOCKER_HOST"):
        return DEFAULT_CONTEXT
    return environ.get("DOCKER_CONTEXT") or current() or DEFAULT_CONTEXT


def default_endpoint(
    host: str | None,
    environ: Mapping[str, str],
    folder: Path,
    existing: Callable[[Path], bool],
) -> Endpoint:
    """The ``default`` context: the host given, with TLS from the environment."""
    tls = _environment_tls(environ, folder, existing)
    address = host or environ.get("DOCKER_HOST") or (DEFAULT_TLS_HOST if tls else DEFAULT_SOCKET)
    return Endpoint(address, DEFAULT_CONTEXT, tls)


def _environment_tls(
    environ: Mapping[str, str], folder: Path, existing: Callable[[Path], bool]
) -> TlsMaterial | None:
    """``DOCKER_TLS_VERIFY`` verifies, ``DOCKER_TLS`` only encrypts. The CA file is
    required (the CLI fails on a missing one); cert.pem and key.pem are used if present."""
    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    if not verify and not environ.get("DOCKER_TLS"):
        return None
    certs = Path(environ.get("DOCKER_CERT_PATH") or folder)
    ca = certs / "ca.pem"
    if not existing(ca):
        raise ContextError(
            f"TLS is on (DOCKER_TLS_VERIFY or DOCKER_TLS) but there is no {ca}: "
            "set DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem"
        )
    cert, key = certs / "cert.pem", certs / "key.pem"
    return TlsMaterial(ca, cert if existing(cert) else None, key if existing(key) else None, verify)


def context_endpoint(name: str, folder: Path) -> Endpoint:
    """A named context from the store in ``folder``."""
    if not CONTEXT_NAME.match(name):
        raise ContextError(
            f"context name {name!r} is invalid: names are validated against the regexp "
            f"{CONTEXT_NAME.pattern}"
        )
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta_path = folder / "contexts" / "meta" / digest / "meta.json"
    try:
        meta = json.loads(meta_path.read_bytes())
    except FileNotFoundError:
        raise ContextError(
            f"unknown Docker context {name!r}: there is no {meta_path} "
            "(`docker context ls` lists the contexts)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ContextError(f"Docker context {name!r}: cannot read {meta_path}: {exc}") from None
    tls_dir = folder / "contexts" / "tls" / digest / "docker"
    return endpoint_from_meta(name, meta, meta_path, tls_dir, _existing)


def endpoint_from_meta(
    name: str, meta: Any, meta_path: Path, tls_dir: Path, existing: Callable[[Path], bool]
) -> Endpoint:
    """The docker endpoint of a context's ``meta.json`` and its TLS folder."""
    docker = meta.get("Endpoints", {}).get("docker") if isinstance(meta, dict) else None
    if not isinstance(docker, dict) or not isinstance(docker.get("Host"), str):
        raise ContextError(f"Docker context {name!r}: {meta_path} has no docker endpoint Host")
    ca, cert, key = (tls_dir / file for file in TLS_FILES)
    files = (ca if existing(ca) else None, cert if existing(cert) else None)
    skip_verify = docker.get("SkipTLSVerify") is True
    tls = None
    if any(files) or skip_verify:
        tls = TlsMaterial(files[0], files[1], key if existing(key) else None, not skip_verify)
    return Endpoint(docker["Host"], name, tls)


def current_context(folder: Path) -> str | None:
    """``currentContext`` of ``folder``/config.json; nothing when there is no config."""
    path = folder / "config.json"
    try:
        config = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ContextError(
            f"cannot read the docker config {path}: {exc} (volplan will not guess which "
            "engine is meant; fix the file, or pass --host or --context)"
        ) from None
    current = config.get("currentContext") if isinstance(config, dict) else None
    return current if isinstance(current, str) and current else None


def _existing(path: Path) -> bool:
    return path.is_file()
