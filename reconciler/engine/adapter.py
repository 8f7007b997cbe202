"""The Engine API adapter: the only module that talks to the Docker engine.

Calls that change the engine or stream, and every call to a TCP, TLS or SSH endpoint, go
through docker-py's low-level ``APIClient``. On a local ``unix://`` socket the reads (GETs
answered with JSON) go through ``unix_reads`` instead and docker-py is imported on the
first write, so a check never pays for it; see that module for why. Every SDK, transport
or HTTP failure becomes one of volplan's ``EngineError``s here or there, so nothing from
docker-py or requests crosses into the rest of the program.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.engine import records
from reconciler.engine.base import MAX_CONCURRENT_CALLS, ContainerCreate, VolumeCreate
from reconciler.engine.records import ContainerInspect, DiskUsage
from reconciler.engine.unix_reads import UnixSocketReads
from reconciler.errors import (
    EngineError,
    EngineNotFound,
    EngineTimeout,
    EngineUnreachable,
    engine_error,
)
from reconciler.model import (
    EngineInfo,
    ImageConfig,
    LiveContainer,
    LiveImage,
    LiveVolume,
    Mount,
    MountKind,
)

if TYPE_CHECKING:
    import docker
    from docker.types import Mount as SdkMount

DEFAULT_HOST = "unix:///var/run/docker.sock"
REQUEST_TIMEOUT_SECONDS = 120
ARCHIVE_CHUNK_BYTES = 1 << 20


@contextmanager
def engine_errors(doing: str) -> Iterator[None]:
    """Map SDK and transport failures to volplan errors that name what was being done."""
    import docker.errors
    import requests.exceptions

    try:
        yield
    except docker.errors.APIError as exc:
        raise engine_error(exc.status_code, f"{doing}: {_explanation(exc)}") from exc
    except requests.exceptions.Timeout as exc:
        raise EngineTimeout(f"{doing}: the Docker engine did not answer in time") from exc
    except (requests.exceptions.ConnectionError, docker.errors.DockerException) as exc:
        raise EngineUnreachable(f"{doing}: the Docker engine did not answer ({exc})") from exc


def _explanation(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc)


def resolve_host(host: str | None) -> str:
    return host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


class JsonReads(Protocol):
    def get_json(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Any: ...


class SdkReads:
    """``JsonReads`` through docker-py, for endpoints other than a local socket."""

    def __init__(self, client: docker.APIClient) -> None:
        self._client: Any = client  # its request helpers are private, hence untyped

    def get_json(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Any:
        with engine_errors(doing):
            url = self._client._url(path_format, *args)
            return self._client._result(self._client._get(url, params=params), json=True)


class DockerEngine:
    """``Engine`` over the Engine API: one HTTP request per method."""

    def __init__(
        self,
        endpoint: str,
        reads: JsonReads,
        api_version: str,
        client: docker.APIClient | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.api_version = api_version
        self.reads = reads
        self._client = client
        self._client_lock = threading.Lock()

    @classmethod
    def connect(cls, host: str | None = None) -> DockerEngine:
        """Connect like the docker CLI: ``--host``, else ``DOCKER_HOST`` and its TLS settings."""
        endpoint = resolve_host(host)
        doing = f"connecting to the Docker engine at {endpoint}"
        if endpoint.startswith("unix://"):
            reads = UnixSocketReads(endpoint.removeprefix("unix://"), REQUEST_TIMEOUT_SECONDS)
            return cls(endpoint, reads, reads.negotiate(doing))
        client = _sdk_client(endpoint, "auto", doing)
        return cls(endpoint, SdkReads(client), client.api_version, client)

    @property
    def client(self) -> docker.APIClient:
        """docker-py's client, made on first use with the API version already agreed."""
        with self._client_lock:
            if self._client is None:
                self._client = _sdk_client(
                    self.endpoint,
                    self.api_version,
                    f"connecting to the Docker engine at {self.endpoint}",
                )
            return self._client

    def close(self) -> None:
        """Close docker-py's connection pool, if it was ever opened."""
        if self._client is not None:
            self._client.close()

    def info(self) -> EngineInfo:
        answer = self.reads.get_json("reading engine info", "/info")
        return records.parse_info(answer, endpoint=self.endpoint, api_version=self.api_version)

    def list_volumes(self) -> list[LiveVolume]:
        return records.parse_volume_list(self.reads.get_json("listing volumes", "/volumes"))

    def list_containers(self) -> list[LiveContainer]:
        answer = self.reads.get_json("listing containers", "/containers/json", params=ALL)
        return records.parse_container_list(answer)

    def inspect_container(self, ref: str) -> ContainerInspect:
        answer = self.reads.get_json(f"inspecting container {ref}", "/containers/{}/json", ref)
        return records.parse_container_inspect(answer)

    def list_images(self) -> list[LiveImage]:
        return records.parse_image_list(self.reads.get_json("listing images", "/images/json"))

    def inspect_image(self, ref: str) -> ImageConfig:
        answer = self.reads.get_json(f"inspecting image {ref}", "/images/{}/json", ref)
        return records.parse_image_inspect(answer)

    def disk_usage(self) -> DiskUsage:
        return records.parse_disk_usage(self.reads.get_json("reading disk usage", "/system/df"))

    def create_volume(self, request: VolumeCreate) -> None:
        with engine_errors(f"creating volume {request.name}"):
            self.client.create_volume(
                name=request.name,
                driver=request.driver,
                driver_opts=dict(request.driver_opts),
                labels=dict(request.labels),
            )

    def remove_volume(self, name: str) -> None:
        with engine_errors(f"removing volume {name}"):
            self.client.remove_volume(name)

    def create_container(self, request: ContainerCreate) -> str:
        host_config = self.client.create_host_config(
            mounts=[_sdk_mount(m) for m in request.mounts if not _as_bind_string(m)] or None,
            binds=[_bind_string(m) for m in request.mounts if _as_bind_string(m)] or None,
            volumes_from=list(request.volumes_from) or None,
            network_mode=request.network_mode,
            restart_policy=_restart_policy(request.restart),
            publish_all_ports=request.publish_all,
        )
        with engine_errors(f"creating container {request.name}"):
            answer = self.client.create_container(
                image=request.image,
                command=list(request.command) if request.command is not None else None,
                name=request.name,
                environment=dict(request.environment) or None,
                labels=dict(request.labels),
                host_config=host_config,
                stop_signal=request.stop_signal,
                stop_timeout=request.stop_timeout,
            )
        return str(answer["Id"])

    def start_container(self, ref: str) -> None:
        with engine_errors(f"starting container {ref}"):
            self.client.start(ref)

    def stop_container(self, ref: str, timeout: int | None) -> None:
        with engine_errors(f"stopping container {ref}"):
            self.client.stop(ref, timeout=timeout)

    def rename_container(self, ref: str, new_name: str) -> None:
        with engine_errors(f"renaming container {ref} to {new_name}"):
            self.client.rename(ref, new_name)

    def remove_container(self, ref: str) -> None:
        with engine_errors(f"removing container {ref}"):
            self.client.remove_container(ref, v=False, force=False)

    def image_present(self, image: str) -> bool:
        try:
            self.reads.get_json(f"inspecting image {image}", "/images/{}/json", image)
        except EngineNotFound:
            return False
        return True

    def pull_image(self, image: str, progress: Callable[[str], None]) -> None:
        from docker.utils import parse_repository_tag

        repository, tag = parse_repository_tag(image)
        with engine_errors(f"pulling image {image}"):
            for event in self.client.pull(
                repository, tag=tag or "latest", stream=True, decode=True
            ):
                if "error" in event:
                    raise EngineError(f"pulling image {image}: {event['error']}")
                progress(" ".join(str(event.get(k, "")) for k in ("status", "progress")).strip())

    def get_archive(self, ref: str, path: str) -> Generator[bytes, None, None]:
        """Chunks of the tar the engine streams; the HTTP response is closed with the iterator.

        docker-py's own ``get_archive`` hides the response, so an early stop (an emptiness
        check reads two entries) could not close it; hence its private request helpers.
        """
        doing = f"reading {path} from container {ref}"
        client: Any = self.client
        with engine_errors(doing):
            response = client._get(
                client._url("/containers/{0}/archive", ref),
                params={"path": path},
                stream=True,
                headers={"Accept-Encoding": "identity"},
            )
            client._raise_for_status(response)
        try:
            with engine_errors(doing):
                yield from response.iter_content(ARCHIVE_CHUNK_BYTES)
        finally:
            response.close()

    def put_archive(self, ref: str, path: str, chunks: Iterable[bytes]) -> None:
        with engine_errors(f"writing into {path} of container {ref}"):
            self.client.put_archive(ref, path, iter(chunks))


ALL = {"all": "1"}
"""``/containers/json`` lists only running containers unless asked for all."""


def _sdk_client(endpoint: str, version: str, doing: str) -> docker.APIClient:
    import docker

    kwargs: dict[str, Any] = {**docker.utils.kwargs_from_env(), "base_url": endpoint}
    with engine_errors(doing):
        client = docker.APIClient(
            version=version,
            timeout=REQUEST_TIMEOUT_SECONDS,
            max_pool_size=MAX_CONCURRENT_CALLS,  # one connection per apply worker
            **kwargs,
        )
    if endpoint.startswith("unix://"):
        # No proxy can stand between us and a local socket, so requests need not scan
        # the environment for proxy settings on every call (a sixth of its CPU per call).
        client.trust_env = False
    return client


def _sdk_mount(mount: Mount) -> SdkMount:
    from docker.types import Mount as SdkMount

    if mount.kind is MountKind.BIND:
        return SdkMount(
            target=mount.target,
            source=mount.source,
            type="bind",
            read_only=mount.read_only,
            propagation=mount.propagation,
        )
    return SdkMount(
        target=mount.target,
        source=mount.source,
        type="volume",
        read_only=mount.read_only,
        no_copy=mount.nocopy,
    )


def _as_bind_string(mount: Mount) -> bool:
    """Legacy ``Binds`` form: the one way API 1.41 creates a missing host directory or
    relabels content for SELinux (``z``/``Z``), which ``Mounts`` cannot say."""
    return mount.create_host_path or mount.selinux is not None


def _bind_string(mount: Mount) -> str:
    options = ["ro" if mount.read_only else "rw"]
    if mount.propagation:
        options.append(mount.propagation)
    if mount.nocopy:
        options.append("nocopy")
    if mount.selinux:
        options.append(mount.selinux)
    return f"{mount.source}:{mount.target}:{','.join(options)}"


def _restart_policy(restart: str | None) -> dict[str, Any] | None:
    if restart is None:
        return None
    name, _, retries = restart.partition(":")
    return {"Name": name, "MaximumRetryCount": int(retries or 0)}
