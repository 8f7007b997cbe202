"""The Engine API adapter: the only module that talks to the Docker engine.

Requests go through the one request path (``transport``), one request per call, their
bodies built by ``options_body``: on a local ``unix://`` socket over ``http.client``
(``unix_transport``), so neither a check nor an apply pays for importing docker-py; on a
TCP, TLS or SSH endpoint through docker-py's requests session. docker-py's ``APIClient``
itself does what only it does here: pulls (their progress stream), image imports and
writing archives. Every SDK, transport or HTTP failure becomes one of volplan's
``EngineError``s (``error_map``), so nothing from docker-py, requests or ``http.client``
crosses into the rest of the program.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.engine import records
from reconciler.engine.base import (
    MAX_CONCURRENT_CALLS,
    ContainerCreate,
    EngineLists,
    VolumeCreate,
)
from reconciler.engine.contexts import Endpoint, TlsMaterial
from reconciler.engine.error_map import engine_errors, status_error
from reconciler.engine.options_body import (
    container_create_body,
    endpoint_config,
    volume_create_body,
)
from reconciler.engine.records import ContainerInspect, DiskUsage, EngineEvent, ImageDefaults
from reconciler.engine.transport import (
    CHUNK_BYTES,
    Request,
    Transport,
    checked_answer,
    json_answer,
    json_lines,
    mapped_chunks,
)
from reconciler.errors import EngineError, EngineNotFound
from reconciler.model import (
    EngineInfo,
    ImageConfig,
    LiveContainer,
    LiveImage,
    LiveVolume,
)

if TYPE_CHECKING:
    import docker
    import requests

REQUEST_TIMEOUT_SECONDS = 120


class SdkTransport:
    """``Transport`` through docker-py's requests session (public: ``APIClient`` is a
    ``requests.Session``), for endpoints other than a local socket: it knows TLS and SSH."""

    def __init__(self, client: docker.APIClient) -> None:
        self._client = client

    def get_json(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Any:
        return self._get_json(doing, Request("GET", path_format, args, params))

    def get_json_all(self, calls: Sequence[tuple[str, Request]]) -> list[Any]:
        """On threads of docker-py's session, so a remote engine's round trips overlap."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(calls), thread_name_prefix="volplan-read") as pool:
            answers = [pool.submit(self._get_json, doing, request) for doing, request in calls]
            return [answer.result() for answer in answers]

    def _get_json(self, doing: str, request: Request) -> Any:
        with engine_errors(doing):
            response = self._request(request, stream=False)
        return json_answer(response.status_code, response.content, doing)

    def send(self, doing: str, request: Request, *, timeout: float | None = None) -> bytes:
        with engine_errors(doing):
            response = self._request(request, stream=False, timeout=timeout)
        return checked_answer(response.status_code, response.content, doing)

    def get_stream(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Generator[bytes, None, None]:
        with engine_errors(doing):
            response = self._request(Request("GET", path_format, args, params), stream=True)
        try:
            if response.status_code >= 400:
                raise status_error(response.status_code, response.content, doing)
            chunks = response.iter_content(CHUNK_BYTES)
            yield from mapped_chunks(doing, lambda: next(chunks, b""))
        finally:
            response.close()

    def _request(
        self, request: Request, *, stream: bool, timeout: float | None = None
    ) -> requests.Response:
        """requests sends an iterator body (a tar's chunks) with chunked encoding."""
        client = self._client
        headers = {"Accept-Encoding": "identity"}
        body = request.body()
        if body is not None:
            headers["Content-Type"] = request.content_type
        return client.request(
            request.method,
            client.base_url + request.path(f"/v{client.api_version}"),
            data=body,
            stream=stream,
            timeout=timeout or client.timeout,
            headers=headers,
        )


class DockerEngine:
    """``Engine`` over the Engine API: one HTTP request per method."""

    def __init__(
        self,
        endpoint: Endpoint,
        transport: Transport,
        api_version: str,
        client: docker.APIClient | None = None,
    ) -> None:
        self.endpoint = endpoint.host
        self._endpoint = endpoint
        self.api_version = api_version
        self.transport = transport
        self._client = client
        self._client_lock = threading.Lock()

    @classmethod
    def connect(cls, endpoint: Endpoint | str) -> DockerEngine:
        """Connect to ``endpoint`` (``contexts.resolve_endpoint`` chose it, as the CLI
        does); a plain address is an endpoint without TLS."""
        if isinstance(endpoint, str):
            endpoint = Endpoint(endpoint)
        doing = f"connecting to the Docker engine at {endpoint.host}"
        if endpoint.host.startswith("unix://"):
            from reconciler.engine.unix_transport import UnixSocketTransport

            path = endpoint.host.removeprefix("unix://")
            transport = UnixSocketTransport(path, REQUEST_TIMEOUT_SECONDS)
            return cls(endpoint, transport, transport.negotiate(doing))
        client = _sdk_client(endpoint, "auto", doing)
        return cls(endpoint, SdkTransport(client), client.api_version, client)

    @property
    def client(self) -> docker.APIClient:
        """docker-py's client, made on first use with the API version already agreed."""
        with self._client_lock:
            if self._client is None:
                self._client = _sdk_client(
                    self._endpoint,
                    self.api_version,
                    f"connecting to the Docker engine at {self.endpoint}",
                )
            return self._client

    def close(self) -> None:
        """Close docker-py's connection pool, if it was ever opened."""
        if self._client is not None:
            self._client.close()

    def info(self) -> EngineInfo:
        return self._parse_info(self._get(_INFO))

    def list_volumes(self) -> list[LiveVolume]:
        return records.parse_volume_list(self._get(_VOLUMES))

    def list_containers(self) -> list[LiveContainer]:
        return records.parse_container_list(self._get(_CONTAINERS))

    def list_all(self) -> EngineLists:
        info, volumes, containers, images = self.transport.get_json_all(
            (_INFO, _VOLUMES, _CONTAINERS, _IMAGES)
        )
        return EngineLists(
            self._parse_info(info),
            records.parse_volume_list(volumes),
            records.parse_container_list(containers),
            records.parse_image_list(images),
        )

    def _get(self, call: tuple[str, Request]) -> Any:
        doing, request = call
        return self.transport.get_json(
            doing, request.path_format, *request.args, params=request.params
        )

    def _parse_info(self, answer: Any) -> EngineInfo:
        return records.parse_info(answer, endpoint=self.endpoint, api_version=self.api_version)

    def inspect_container(self, ref: str) -> ContainerInspect:
        answer = self.transport.get_json(f"inspecting container {ref}", "/containers/{}/json", ref)
        return records.parse_container_inspect(answer)

    def list_images(self) -> list[LiveImage]:
        return records.parse_image_list(self._get(_IMAGES))

    def inspect_image(self, ref: str) -> ImageConfig:
        answer = self.transport.get_json(f"inspecting image {ref}", "/images/{}/json", ref)
        return records.parse_image_inspect(answer)

    def image_defaults(self, ref: str) -> ImageDefaults:
        answer = self.transport.get_json(f"inspecting image {ref}", "/images/{}/json", ref)
        return records.parse_image_defaults(answer)

    def disk_usage(self) -> DiskUsage:
        return records.parse_disk_usage(self.transport.get_json("reading disk usage", "/system/df"))

    def list_networks(self) -> list[str]:
        return records.parse_network_names(self.transport.get_json("listing networks", "/networks"))

    def events(
        self, since: float, until: float, filters: Mapping[str, Sequence[str]]
    ) -> Iterator[EngineEvent]:
        doing = "following the engine's events"
        params = {
            "since": f"{since:.9f}",
            "until": f"{until:.9f}",
            "filters": json.dumps({key: list(values) for key, values in filters.items()}),
        }
        stream = self.transport.get_stream(doing, "/events", params=params)
        try:
            for raw in json_lines(stream, doing):
                yield records.parse_event(raw)
        finally:
            stream.close()

    def create_volume(self, request: VolumeCreate) -> None:
        self.transport.send(
            f"creating volume {request.name}",
            Request("POST", "/volumes/create", json=volume_create_body(request)),
        )

    def remove_volume(self, name: str) -> None:
        self.transport.send(f"removing volume {name}", Request("DELETE", "/volumes/{}", (name,)))

    def create_container(self, request: ContainerCreate) -> str:
        doing = f"creating container {request.name}"
        create = Request(
            "POST",
            "/containers/create",
            params={"name": request.name},
            json=container_create_body(request),
        )
        answer = self.transport.send(doing, create)
        container_id = str(json_answer(200, answer, doing)["Id"])
        try:
            for network in request.options.networks[1:]:
                endpoint = {
                    "Container": container_id,
                    "EndpointConfig": endpoint_config(network.aliases),
                }
                self.transport.send(
                    f"{doing}: connecting it to network {network.name}",
                    Request("POST", "/networks/{}/connect", (network.name,), json=endpoint),
                )
        except EngineError:
            self.remove_container(container_id)
            raise
        return container_id

    def start_container(self, ref: str) -> None:
        self.transport.send(
            f"starting container {ref}", Request("POST", "/containers/{}/start", (ref,))
        )

    def stop_container(self, ref: str, timeout: int | None) -> None:
        """The engine answers once the container has stopped, up to ``timeout`` seconds
        (None: the container's own stop timeout) after the signal; the request waits as
        long, on top of its own timeout, as docker-py's ``stop`` does."""
        params = {"t": str(timeout)} if timeout is not None else None
        self.transport.send(
            f"stopping container {ref}",
            Request("POST", "/containers/{}/stop", (ref,), params),
            timeout=REQUEST_TIMEOUT_SECONDS + (timeout or 0),
        )

    def rename_container(self, ref: str, new_name: str) -> None:
        self.transport.send(
            f"renaming container {ref} to {new_name}",
            Request("POST", "/containers/{}/rename", (ref,), {"name": new_name}),
        )

    def remove_container(self, ref: str) -> None:
        """Its anonymous volumes are kept (``v`` unset): volplan never deletes data."""
        self.transport.send(
            f"removing container {ref}", Request("DELETE", "/containers/{}", (ref,))
        )

    def image_present(self, image: str) -> bool:
        try:
            self.transport.get_json(f"inspecting image {image}", "/images/{}/json", image)
        except EngineNotFound:
            return False
        return True

    def pull_image(self, image: str, progress: Callable[[str], None]) -> None:
        repository, tag = _repository_and_tag(image)
        with engine_errors(f"pulling image {image}"):
            for event in self.client.pull(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise EngineError(f"pulling image {image}: {event['error']}")
                progress(" ".join(str(event.get(k, "")) for k in ("status", "progress")).strip())

    def import_image(self, image: str, archive: bytes, changes: tuple[str, ...]) -> None:
        repository, tag = _repository_and_tag(image)
        with engine_errors(f"importing image {image}"):
            # The tag goes in ``repo`` (the API allows it there): Podman (4.3) ignores a
            # ``tag`` parameter on import and would move ``:latest`` instead.
            self.client.import_image_from_data(
                archive, repository=f"{repository}:{tag}", changes=list(changes)
            )

    def get_archive(self, ref: str, path: str) -> Generator[bytes, None, None]:
        """Chunks of the tar the engine streams; the response is closed with the iterator,
        so an early stop (an emptiness check reads two entries) ends the transfer."""
        return self.transport.get_stream(
            f"reading {path} from container {ref}",
            "/containers/{}/archive",
            ref,
            params={"path": path},
        )

    def service_logs(self, service: str) -> bytes:
        """All of it at once: without ``follow`` the engine ends the answer after the
        last line; ``details`` adds each line's node and task."""
        chunks = self.transport.get_stream(
            f"reading the logs of service {service}",
            "/services/{}/logs",
            service,
            params=SERVICE_LOGS,
        )
        return b"".join(chunks)

    def put_archive(self, ref: str, path: str, chunks: Iterable[bytes]) -> None:
        self.transport.send(
            f"writing into {path} of container {ref}",
            Request("PUT", "/containers/{}/archive", (ref,), {"path": path}, chunks=chunks),
        )

    def put_file(self, ref: str, path: str, content: bytes) -> None:
        from reconciler.engine.one_file_tar import tar_of_file

        directory, _, name = path.rpartition("/")
        self.put_archive(ref, directory or "/", [tar_of_file(name, content)])


ALL = {"all": "1"}
_INFO = ("reading engine info", Request("GET", "/info"))
_VOLUMES = ("listing volumes", Request("GET", "/volumes"))
_CONTAINERS = ("listing containers", Request("GET", "/containers/json", params=ALL))
_IMAGES = ("listing images", Request("GET", "/images/json"))
"""``/containers/json`` lists only running containers unless asked for all."""
SERVICE_LOGS = {"stdout": "1", "details": "1", "timestamps": "1", "tail": "100"}
"""Each task's last 100 stdout lines (``tail`` counts per task): an agent's stdout holds
its status lines alone, so its latest is there however long it has run."""


def _sdk_client(endpoint: Endpoint, version: str, doing: str) -> docker.APIClient:
    """docker-py's client for ``endpoint``. An ``ssh://`` endpoint goes through paramiko
    (``use_ssh_client=False``), which checks the host key against ``~/.ssh/known_hosts``
    and refuses an unknown or changed key (docker-py sets paramiko's ``RejectPolicy``;
    tests/integration/test_ssh_endpoint.py pins it), rather than the ssh program, whose
    answer depends on the user's ssh config and can be a prompt on the terminal."""
    load_sdk()
    with engine_errors(doing):
        client = _client_type()(
            base_url=endpoint.host,
            version=version,
            timeout=REQUEST_TIMEOUT_SECONDS,
            max_pool_size=MAX_CONCURRENT_CALLS,  # one connection per apply worker
            tls=_tls_config(endpoint.tls) if endpoint.tls else False,
            use_ssh_client=False,
        )
    if endpoint.host.startswith("unix://"):
        # No proxy can stand between us and a local socket, so requests need not scan
        # the environment for proxy settings on every call (a sixth of its CPU per call).
        client.trust_env = False
    return client


_SDK_IMPORT = threading.Lock()


def load_sdk() -> None:
    """Import docker-py, one thread at a time. Threads that need it at once (a fleet's
    targets) would otherwise import it side by side, and Python hands a thread that
    meets another's import halfway round docker-py's import cycles the half-made module
    (``module 'docker' has no attribute 'APIClient'``)."""
    with _SDK_IMPORT:
        import docker.tls
        import docker.utils  # noqa: F401

        _client_type()


def _repository_and_tag(image: str) -> tuple[str, str]:
    """docker-py's split of a reference (``latest`` when it names no tag), with docker-py
    loaded first by ``load_sdk``: a fleet's targets import the lock's helper image at
    once, and an import of ``docker.utils`` of their own would race."""
    load_sdk()
    from docker.utils import parse_repository_tag

    repository, tag = parse_repository_tag(image)
    return repository, tag or "latest"


@functools.cache
def _client_type() -> type[docker.APIClient]:
    """docker-py's client, keeping the endpoint's CA. requests lets ``REQUESTS_CA_BUNDLE``
    or ``CURL_CA_BUNDLE`` replace a session's CA on every request (requests issue 3829),
    so with either set a context's own CA would never be used; the proxy settings are
    still taken from the environment, as the CLI takes them."""
    import docker

    class ContextCaClient(docker.APIClient):
        def merge_environment_settings(
            self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> Any:
            verify = self.verify if verify is None else verify
            return super().merge_environment_settings(url, proxies, stream, verify, cert)

    return ContextCaClient


def _tls_config(tls: TlsMaterial) -> docker.tls.TLSConfig:
    """The context's TLS as the CLI uses it: only its CA when it has one (else the
    system's), its client certificate when it has both files, no check if told to skip."""
    import docker.tls

    both = tls.cert is not None and tls.key is not None
    return docker.tls.TLSConfig(
        client_cert=(str(tls.cert), str(tls.key)) if both else None,
        ca_cert=str(tls.ca) if tls.ca is not None and tls.verify else None,
        verify=tls.verify,
    )
