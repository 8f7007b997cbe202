"""The Engine API adapter: the only module that talks to the Docker engine.

Reads go through the one read path (``reads``): on a local ``unix://`` socket over
``http.client`` (``unix_reads``), so docker-py is imported on the first write and a check
never pays for it; on a TCP, TLS or SSH endpoint through docker-py's requests session.
Writes go through docker-py's low-level ``APIClient``, one request per call. Every SDK,
transport or HTTP failure becomes one of volplan's ``EngineError``s (``error_map``), so
nothing from docker-py, requests or ``http.client`` crosses into the rest of the program.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.engine import records
from reconciler.engine.base import (
    ENGINE_STOP_TIMEOUT,
    MAX_CONCURRENT_CALLS,
    ContainerCreate,
    VolumeCreate,
)
from reconciler.engine.contexts import Endpoint, TlsMaterial
from reconciler.engine.error_map import engine_errors, status_error
from reconciler.engine.options_body import (
    config_fields,
    host_config_fields,
    networking_config,
)
from reconciler.engine.reads import (
    CHUNK_BYTES,
    Reads,
    json_answer,
    json_lines,
    mapped_chunks,
    request_path,
)
from reconciler.engine.records import ContainerInspect, DiskUsage, EngineEvent, ImageDefaults
from reconciler.errors import EngineError, EngineNotFound
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
    import requests
    from docker.types import Mount as SdkMount

REQUEST_TIMEOUT_SECONDS = 120


class SdkReads:
    """``Reads`` through docker-py's requests session (public: ``APIClient`` is a
    ``requests.Session``), for endpoints other than a local socket: it knows TLS and SSH."""

    def __init__(self, client: docker.APIClient) -> None:
        self._client = client

    def get_json(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Any:
        with engine_errors(doing):
            response = self._request(path_format, args, params, stream=False)
        return json_answer(response.status_code, response.content, doing)

    def get_stream(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Generator[bytes, None, None]:
        with engine_errors(doing):
            response = self._request(path_format, args, params, stream=True)
        try:
            if response.status_code >= 400:
                raise status_error(response.status_code, response.content, doing)
            chunks = response.iter_content(CHUNK_BYTES)
            yield from mapped_chunks(doing, lambda: next(chunks, b""))
        finally:
            response.close()

    def _request(
        self,
        path_format: str,
        args: tuple[str, ...],
        params: Mapping[str, str] | None,
        *,
        stream: bool,
    ) -> requests.Response:
        client = self._client
        path = request_path(f"/v{client.api_version}", path_format, args, params)
        return client.get(
            client.base_url + path,
            stream=stream,
            timeout=client.timeout,
            headers={"Accept-Encoding": "identity"},
        )


class DockerEngine:
    """``Engine`` over the Engine API: one HTTP request per method."""

    def __init__(
        self,
        endpoint: Endpoint,
        reads: Reads,
        api_version: str,
        client: docker.APIClient | None = None,
    ) -> None:
        self.endpoint = endpoint.host
        self._endpoint = endpoint
        self.api_version = api_version
        self.reads = reads
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
            from reconciler.engine.unix_reads import UnixSocketReads

            path = endpoint.host.removeprefix("unix://")
            reads = UnixSocketReads(path, REQUEST_TIMEOUT_SECONDS)
            return cls(endpoint, reads, reads.negotiate(doing))
        client = _sdk_client(endpoint, "auto", doing)
        return cls(endpoint, SdkReads(client), client.api_version, client)

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

    def image_defaults(self, ref: str) -> ImageDefaults:
        answer = self.reads.get_json(f"inspecting image {ref}", "/images/{}/json", ref)
        return records.parse_image_defaults(answer)

    def disk_usage(self) -> DiskUsage:
        return records.parse_disk_usage(self.reads.get_json("reading disk usage", "/system/df"))

    def list_networks(self) -> list[str]:
        return records.parse_network_names(self.reads.get_json("listing networks", "/networks"))

    def events(
        self, since: float, until: float, filters: Mapping[str, Sequence[str]]
    ) -> Iterator[EngineEvent]:
        doing = "following the engine's events"
        params = {
            "since": f"{since:.9f}",
            "until": f"{until:.9f}",
            "filters": json.dumps({key: list(values) for key, values in filters.items()}),
        }
        stream = self.reads.get_stream(doing, "/events", params=params)
        try:
            for raw in json_lines(stream, doing):
                yield records.parse_event(raw)
        finally:
            stream.close()

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
        host_config.update(host_config_fields(request.options))
        doing = f"creating container {request.name}"
        client: Any = self.client  # the raw-config calls below are untyped in docker-py
        with engine_errors(doing):
            config = client.create_container_config(
                image=request.image,
                command=list(request.command) if request.command is not None else None,
                environment=dict(request.environment) or None,
                labels=dict(request.labels),
                host_config=host_config,
                stop_signal=request.stop_signal,
                stop_timeout=(
                    ENGINE_STOP_TIMEOUT if request.stop_timeout is None else request.stop_timeout
                ),
                networking_config=networking_config(request.options),
            )
            config.update(config_fields(request.options))
            answer = client.create_container_from_config(config, request.name)
        container_id = str(answer["Id"])
        try:
            for network in request.options.networks[1:]:
                with engine_errors(f"{doing}: connecting it to network {network.name}"):
                    self.client.connect_container_to_network(
                        container_id, network.name, aliases=list(network.aliases) or None
                    )
        except EngineError:
            self.remove_container(container_id)
            raise
        return container_id

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

    def import_image(self, image: str, archive: bytes, changes: tuple[str, ...]) -> None:
        from docker.utils import parse_repository_tag

        repository, tag = parse_repository_tag(image)
        with engine_errors(f"importing image {image}"):
            # The tag goes in ``repo`` (the API allows it there): Podman (4.3) ignores a
            # ``tag`` parameter on import and would move ``:latest`` instead.
            self.client.import_image_from_data(
                archive, repository=f"{repository}:{tag or 'latest'}", changes=list(changes)
            )

    def get_archive(self, ref: str, path: str) -> Generator[bytes, None, None]:
        """Chunks of the tar the engine streams; the response is closed with the iterator,
        so an early stop (an emptiness check reads two entries) ends the transfer."""
        return self.reads.get_stream(
            f"reading {path} from container {ref}",
            "/containers/{}/archive",
            ref,
            params={"path": path},
        )

    def service_logs(self, service: str) -> bytes:
        """All of it at once: without ``follow`` the engine ends the answer after the
        last line; ``details`` adds each line's node and task."""
        chunks = self.reads.get_stream(
            f"reading the logs of service {service}",
            "/services/{}/logs",
            service,
            params=SERVICE_LOGS,
        )
        return b"".join(chunks)

    def put_archive(self, ref: str, path: str, chunks: Iterable[bytes]) -> None:
        with engine_errors(f"writing into {path} of container {ref}"):
            self.client.put_archive(ref, path, iter(chunks))

    def put_file(self, ref: str, path: str, content: bytes) -> None:
        from reconciler.engine.one_file_tar import tar_of_file

        directory, _, name = path.rpartition("/")
        self.put_archive(ref, directory or "/", [tar_of_file(name, content)])


ALL = {"all": "1"}
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


def load_sdk() -> None:
    """Import docker-py now, in this thread. Threads that connect at once (a fleet's
    targets) would otherwise import it side by side, and Python hands a thread that
    meets another's import halfway round docker-py's import cycles the half-made module
    (``module 'docker' has no attribute 'APIClient'``)."""
    import docker.tls
    import docker.types
    import docker.utils  # noqa: F401

    _client_type()


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
