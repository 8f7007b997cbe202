"""Each engine failure during apply ends with one clear message naming the action, the
resource and the engine's words; what was done and not done is reported; a re-run converges.

Produced for real where the engine can be made to fail: a name taken and a volume in use
(409), a container removed concurrently (404), the engine stopped mid-run. Server errors
(500) and timeouts are injected at the transport seam every request on a local socket goes
through (``unix_transport``, whose own mapping of 500s and timeouts is tested against a
socket in tests/unit/test_unix_transport.py).
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import warnings
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from docker.types import Mount
from support.cli import RunCli
from support.engine import IMAGE, Engine, start_engine, stop_engine

from reconciler.apply.applier import ActionResult, ApplyListener, ApplyOptions, apply_plan
from reconciler.engine.adapter import DockerEngine
from reconciler.engine.retry import RetryingEngine
from reconciler.engine.transport import Request, Transport
from reconciler.errors import ApplyError, EngineTimeout, engine_error
from reconciler.pipeline import load, plan
from reconciler.plan.actions import describe

pytestmark = pytest.mark.engine

SPECS = Path(__file__).parent / "data" / "errors"

ALLOW_DATA_LOSS = ApplyOptions(allow_data_loss=True)
"""The applier refuses data loss itself; these tests apply the plans directly."""


@pytest.fixture
def specs(tmp_path: Path, clean_engine: Engine, run_cli: RunCli) -> Path:
    """The spec applied once; tests then edit the copy in ``tmp_path``."""
    shutil.copytree(SPECS, tmp_path, dirs_exist_ok=True)
    result = run_cli("apply", "--yes", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    return tmp_path


def _bump(specs: Path, old: str, new: str) -> None:
    spec = specs / "app.yaml"
    spec.write_text(spec.read_text().replace(old, new))


def _bump_both(specs: Path) -> None:
    _bump(specs, 'APP: "1"', 'APP: "2"')
    _bump(specs, 'SIDE: "1"', 'SIDE: "2"')


@pytest.fixture
def docker_engine(clean_engine: Engine) -> Iterator[DockerEngine]:
    engine = DockerEngine.connect(clean_engine.host)
    yield engine
    engine.close()


def test_name_taken_409_rolls_back_and_converges_once_freed(
    specs: Path, clean_engine: Engine, run_cli: RunCli
) -> None:
    client = clean_engine.client
    none = client.create_host_config(network_mode="none")
    client.create_container(IMAGE, ["true"], name="app_volplan-old", host_config=none)  # a user's
    _bump_both(specs)

    failed = run_cli("apply", "--yes", str(specs))

    assert failed.exit_code == 1
    assert "error: recreate container.app failed: renaming container" in failed.stderr
    assert "already in use" in failed.stderr  # the engine's words (Podman's differ)
    assert "Not done (" in failed.stderr
    assert "recreate container.side" in failed.stderr.split("Done (")[1].split("Failed")[0]
    assert clean_engine.inspect_container("app")["State"]["Running"]  # rolled back

    client.remove_container("app_volplan-old")
    again = run_cli("apply", "--yes", str(specs))
    assert again.exit_code == 0, again.stderr
    assert run_cli("plan", "--detailed-exitcode", str(specs)).exit_code == 0


def test_volume_in_use_409_stops_dependents_runs_independent_actions(
    specs: Path, clean_engine: Engine, docker_engine: DockerEngine
) -> None:
    _bump(specs, "  data: {}", "  data: {labels: {v: '2'}}")
    _bump(specs, 'SIDE: "1"', 'SIDE: "2"')
    engine = docker_engine
    planned = plan(load(specs), engine)
    # Between plan and apply, someone starts using the volume.
    clean_engine.client.create_container(
        IMAGE,
        ["true"],
        name="intruder",
        host_config=clean_engine.client.create_host_config(
            network_mode="none", mounts=[Mount("/d", "data")]
        ),
    )

    with pytest.raises(ApplyError) as caught:
        apply_plan(planned.plan, engine, options=ALLOW_DATA_LOSS)

    message = str(caught.value)
    assert message.startswith("replace volume.data failed: removing volume data:")
    in_use = "volume is being used" if clean_engine.kind == "podman" else "volume is in use"
    assert in_use in message  # the engine's words
    report = caught.value.report
    assert [str(describe(r.action).address) for r in report.done] == [
        "container.app",  # removed to free the volume, before the failure
        "container.side",  # recreated after it: independent of the volume
    ]
    assert [str(describe(a).address) for a in report.not_done] == ["container.app"]
    assert "data" in clean_engine.volume_names()


def test_container_removed_concurrently_404(
    specs: Path, clean_engine: Engine, docker_engine: DockerEngine
) -> None:
    _bump_both(specs)
    engine = docker_engine
    planned = plan(load(specs), engine)
    clean_engine.client.remove_container("app", force=True)

    with pytest.raises(ApplyError) as caught:
        apply_plan(planned.plan, engine, options=ALLOW_DATA_LOSS)

    assert "recreate container.app failed: stopping container" in str(caught.value)
    assert "no such container" in str(caught.value).lower()  # Podman's words are lower-case


class FaultyTransport:
    """The transport seam, answering chosen requests with a 500 or a timeout, raised as
    unix_transport raises them; the rest go to the engine."""

    def __init__(self, real: Transport) -> None:
        self.real = real
        self.faults: list[tuple[str, str, str]] = []
        """(method, path fragment, "500" | "timeout"), each used once."""
        self.seen: list[str] = []

    def _fault(self, doing: str, method: str, path: str) -> None:
        self.seen.append(f"{method} {path}")
        for fault in self.faults:
            faulty_method, fragment, kind = fault
            if method == faulty_method and fragment in path:
                self.faults.remove(fault)
                if kind == "timeout":
                    raise EngineTimeout(f"{doing}: the Docker engine did not answer in time")
                raise engine_error(500, f"{doing}: injected: internal server error")

    def get_json(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Any:
        self._fault(doing, "GET", path_format.format(*args))
        return self.real.get_json(doing, path_format, *args, params=params)

    def get_json_all(self, calls: Sequence[tuple[str, Request]]) -> list[Any]:
        for doing, request in calls:
            self._fault(doing, "GET", request.path_format.format(*request.args))
        return self.real.get_json_all(calls)

    def get_stream(
        self, doing: str, path_format: str, *args: str, params: Mapping[str, str] | None = None
    ) -> Generator[bytes, None, None]:
        return self.real.get_stream(doing, path_format, *args, params=params)

    def send(self, doing: str, request: Request, *, timeout: float | None = None) -> bytes:
        self._fault(doing, request.method, request.path_format.format(*request.args))
        return self.real.send(doing, request, timeout=timeout)


@pytest.fixture
def faulty(clean_engine: Engine) -> Iterator[tuple[RetryingEngine, FaultyTransport]]:
    engine = DockerEngine.connect(clean_engine.host)
    transport = FaultyTransport(engine.transport)
    engine.transport = transport
    yield RetryingEngine(engine, first_delay=0.01), transport
    engine.close()


def test_reads_and_starts_are_retried_on_500_and_timeout(
    specs: Path, faulty: tuple[RetryingEngine, FaultyTransport]
) -> None:
    engine, transport = faulty
    _bump_both(specs)
    transport.faults += [
        ("GET", "/containers/json", "500"),
        ("GET", "/volumes", "timeout"),
        ("POST", "/start", "timeout"),
    ]

    planned = plan(load(specs), engine)
    report = apply_plan(planned.plan, engine, options=ALLOW_DATA_LOSS)

    assert transport.faults == []
    assert len(report.done) == 2
    assert sum("/start" in s for s in transport.seen) == 3  # one start retried


@pytest.mark.parametrize(
    ("fault", "words"),
    [("500", "injected: internal server error"), ("timeout", "did not answer in time")],
)
def test_a_failed_create_is_reported_and_never_retried(
    specs: Path,
    faulty: tuple[RetryingEngine, FaultyTransport],
    run_cli: RunCli,
    fault: str,
    words: str,
) -> None:
    engine, transport = faulty
    _bump_both(specs)
    planned = plan(load(specs), engine)
    transport.faults.append(("POST", "/containers/create", fault))

    with pytest.raises(ApplyError) as caught:
        apply_plan(planned.plan, engine, options=ALLOW_DATA_LOSS)

    assert str(caught.value).startswith("recreate container.app failed: creating container app: ")
    assert words in str(caught.value)
    assert sum("/containers/create" in s for s in transport.seen) == 2  # app once, side once
    again = run_cli("apply", "--yes", str(specs))
    assert again.exit_code == 0, again.stderr
    assert run_cli("plan", "--detailed-exitcode", str(specs)).exit_code == 0


def test_engine_stopped_mid_run_stops_the_apply(tmp_path: Path) -> None:
    directory = Path(tempfile.mkdtemp(prefix="volplan-gone-", dir="/tmp"))
    private = start_engine(directory)
    try:
        specs = tmp_path / "specs"
        shutil.copytree(SPECS, specs)
        docker_engine = DockerEngine.connect(private.host)
        engine = RetryingEngine(docker_engine, first_delay=0.01)
        planned = plan(load(specs), engine)

        def stop_after_first(result: ActionResult) -> None:
            if result.ok and "volume.data" in str(describe(result.action).address):
                stop_engine(directory)

        with pytest.raises(ApplyError) as caught:
            apply_plan(
                planned.plan,
                engine,
                ApplyListener(on_result=stop_after_first),
                options=ALLOW_DATA_LOSS,
            )
        docker_engine.close()
    finally:
        private.client.close()
        stop_engine(directory)
    message, report = str(caught.value), caught.value.report
    del caught
    _collect_leaked_sockets()

    assert "the Docker engine did not answer" in message
    assert len(report.done) == 1
    assert report.failed is not None
    assert len(report.not_done) == len(planned.plan.actions) - 2


def _collect_leaked_sockets() -> None:
    """docker-py's UnixHTTPConnection.connect does not close its socket when connect()
    fails, which is what talking to a stopped engine means: collect it here, quietly,
    rather than let pytest report docker-py's leak at the end of the session."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
