"""Container options, pure: Compose's syntax parsed, errors placed, the config hash, the
request the engine gets (on the fake engine: ports and networks cannot be exercised on the
test engine), and the policy for options that weaken isolation or read host files."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import labels
from reconciler.apply.applier import container_request
from reconciler.container_options import PortBinding
from reconciler.engine.fake import FakeEngine
from reconciler.errors import PlanError, SpecError
from reconciler.live.networks import check_networks
from reconciler.model import Origin
from reconciler.policy.file import read_policy
from reconciler.policy.rules import DEFAULT_POLICY, check_policy
from reconciler.spec.files import SpecSource
from reconciler.spec.loader import build_desired_state
from reconciler.spec.ports import parse_port
from reconciler.spec.units import parse_bytes, parse_duration
from reconciler.spec.variables import DotenvError, parse_dotenv
from specs import desired_from

HEAD = "version: 1\nproject: web\ncontainers:\n  app:\n    image: busybox\n"


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("0", 0),
        ("30s", 30 * 10**9),
        ("1m30s", 90 * 10**9),
        ("1.5h", 5400 * 10**9),
        ("500ms", 5 * 10**8),
        ("1h2m3s4ms5us6ns", 3723004005006),
        ("2d", 2 * 86400 * 10**9),
        (".5s", 5 * 10**8),
    ],
)
def test_durations_read_as_go_reads_them(text: str, nanoseconds: int) -> None:
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize("text", ["", "30", "1x", "s", "-1s", "1m 30s", "1.2.3s"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|negative"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (512, 512),
        ("512", 512),
        ("64m", 64 * 2**20),
        ("64M", 64 * 2**20),
        ("1g", 2**30),
        ("1.5k", 1536),
        ("1kb", 1024),
        ("1KiB", 1024),
        ("2 g", 2 * 2**30),
    ],
)
def test_sizes_read_as_go_units_reads_them(value: int | str, size: int) -> None:
    assert parse_bytes(value) == size


@pytest.mark.parametrize("text", ["", "m", "1x", "-1m", "1mbb"])
def test_malformed_sizes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        parse_bytes(text)


@pytest.mark.parametrize(
    ("entry", "bindings"),
    [
        (80, (PortBinding(80),)),
        ("80/udp", (PortBinding(80, "udp"),)),
        ("8080:80", (PortBinding(80, "tcp", "", "8080"),)),
        ("127.0.0.1:8080:80", (PortBinding(80, "tcp", "127.0.0.1", "8080"),)),
        ("127.0.0.1::80", (PortBinding(80, "tcp", "127.0.0.1", ""),)),
        ("[::1]:53:53/udp", (PortBinding(53, "udp", "::1", "53"),)),
        (
            "8000-8001:80-81",
            (PortBinding(80, "tcp", "", "8000"), PortBinding(81, "tcp", "", "8001")),
        ),
    ],
)
def test_ports_take_composes_short_syntax(
    entry: str | int, bindings: tuple[PortBinding, ...]
) -> None:
    assert parse_port(entry) == bindings


@pytest.mark.parametrize("entry", ["http", "0", "70000", "8000-8002:80-81", "1:2:3:4"])
def test_bad_ports_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="port"):
        parse_port(entry)


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        desired_from(text)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            "    healthcheck: {test: [CMD, 'true'], intervl: 1s}\n",
            "spec0.yaml:6:40: error: containers.app.healthcheck.intervl: unknown key "
            "'intervl'; did you mean 'interval'? [unknown-key]",
        ),
        (
            "    healthcheck: {interval: 30}\n",
            "spec0.yaml:6:29: error: containers.app.healthcheck.interval: write 30 with a unit",
        ),
        (
            "    healthcheck: {interval: soon}\n",
            "spec0.yaml:6:29: error: containers.app.healthcheck.interval: 'soon' is not a duration",
        ),
        ("    shm_size: lots\n", "spec0.yaml:6:15: error: containers.app.shm_size: 'lots' is not"),
        ("    ports: ['80:http']\n", "spec0.yaml:6:13: error: containers.app.ports[0]: '80:http'"),
        ("    working_dir: srv\n", "spec0.yaml:6:18: error: containers.app.working_dir: working"),
        ("    tmpfs: [run]\n", "spec0.yaml:6:12: error: containers.app.tmpfs: tmpfs path 'run'"),
        ("    cap_add: [net admin]\n", "spec0.yaml:6:15: error: containers.app.cap_add[0]:"),
        (
            "    user_name: x\n",
            "spec0.yaml:6:5: error: containers.app.user_name: unknown key 'user_name'",
        ),
        (
            "    healthcheck: {disable: true, retries: 3}\n",
            "spec0.yaml:6:5: error: containers.app.healthcheck: a disabled healthcheck",
        ),
        (
            "    network_mode: none\n    networks: [front]\n",
            "spec0.yaml:4:3: error: containers.app: networks and network_mode cannot both",
        ),
    ],
)
def test_bad_options_are_errors_at_their_position(lines: str, expected: str) -> None:
    found = problems(HEAD + lines)
    assert len(found) == 1
    assert found[0].startswith(expected), found[0]


FULL = (
    HEAD
    + """\
    entrypoint: /bin/sh -c
    user: nobody
    healthcheck: {test: "test -f /ok", interval: 1m30s}
    cap_add: [cap_net_admin]
    ulimits: {nofile: 1024}
    cpus: "1.5"
    ports: ["127.0.0.1:8080:80"]
    networks: {front: {aliases: [web]}, back: null}
"""
)


def test_options_reach_the_create_request_as_the_engine_api_wants_them() -> None:
    desired = desired_from(FULL)
    container = desired.containers["app"]
    engine = FakeEngine(networks={"front", "back"})

    created = engine.create_container(container_request(container, ()))

    body = engine.created[created]
    assert body["Entrypoint"] == ["/bin/sh", "-c"]
    assert body["User"] == "nobody"
    assert body["Healthcheck"] == {"Test": ["CMD-SHELL", "test -f /ok"], "Interval": 90 * 10**9}
    assert body["ExposedPorts"] == {"80/tcp": {}}
    assert body["HostConfig"] == {
        "CapAdd": ["NET_ADMIN"],
        "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 1024}],
        "NanoCpus": 1_500_000_000,
        "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
        "NetworkMode": "back",
    }
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"back": {}}}
    assert body["Connected"] == {"front": {"Aliases": ["web"]}}


def test_unset_options_leave_the_recorded_config_as_before() -> None:
    """Containers made before the options existed keep their hash: no needless recreate."""
    plain = desired_from(HEAD).containers["app"]
    assert set(labels.container_config(plain)) == {
        "image", "command", "environment", "labels", "network_mode", "restart",
        "publish_all", "stop_signal", "stop_timeout", "mounts", "volumes_from",
    }  # fmt: skip
    changed = desired_from(HEAD + "    read_only: true\n").containers["app"]
    assert labels.container_config(changed)["read_only"] is True


def test_a_missing_network_is_named_and_networks_are_read_only_when_named() -> None:
    engine = FakeEngine(networks={"front"})
    check_networks(desired_from(HEAD), engine)
    assert engine.calls == []

    with pytest.raises(PlanError, match="network 'back', which does not exist"):
        check_networks(desired_from(FULL), engine)
    assert engine.calls == [("list_networks", "")]


def test_the_built_in_policy_refuses_added_capabilities(tmp_path: Path) -> None:
    desired = desired_from(FULL)
    (refused,) = check_policy(desired, DEFAULT_POLICY)
    assert refused.rule == "capability-not-allowed"
    assert str(refused.position) == "spec0.yaml:9:5"

    policy_file = tmp_path / "volplan.policy.yaml"
    policy_file.write_text("version: 1\ncontainers: {cap_add: [NET_ADMIN]}\n")
    assert check_policy(desired, read_policy(policy_file)) == []


def load(folder: Path, text: str, environment: dict[str, str] | None = None) -> list[str]:
    source = SpecSource("app.yaml", str(folder), text.encode())
    desired = build_desired_state([source], environment or {})
    return [str(p) for p in check_policy(desired, DEFAULT_POLICY)]


def test_env_file_goes_through_the_host_path_rules(tmp_path: Path) -> None:
    (tmp_path / "shadow.env").symlink_to("/etc/shadow")
    for path in ("/etc/shadow", "shadow.env"):
        with pytest.raises(SpecError) as caught:
            load(tmp_path, HEAD + f"    env_file: {path}\n")
        (problem,) = caught.value.problems
        assert str(problem.position) == "app.yaml:6:5"
        assert problem.rule == "host-path-denied"
        assert "is denied by the built-in policy" in problem.message
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "app.env").write_text("A=1\n")
    found = load(tmp_path, HEAD + "    env_file: [./etc/app.env]\n")
    assert found == []
    policy_file = tmp_path / "volplan.policy.yaml"
    policy_file.write_text(f"version: 1\nhost_paths: {{deny: [{tmp_path}/etc]}}\n")
    source = SpecSource("app.yaml", str(tmp_path), (HEAD + "    env_file: etc/app.env\n").encode())
    (refused,) = check_policy(build_desired_state([source], {}), read_policy(policy_file))
    assert refused.rule == "host-path-denied"
    assert refused.path == "containers.app.env_file[0]"
    assert refused.message.startswith(
        f"env_file {tmp_path}/etc/app.env lies under {tmp_path}/etc, denied"
    )


def test_env_file_values_are_shown_by_their_origin_only(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text("TOKEN=t0ps3cret\nMODE=file\n")
    source = SpecSource(
        "app.yaml",
        str(tmp_path),
        (HEAD + "    env_file: app.env\n    environment: {MODE: own}\n").encode(),
    )
    container = build_desired_state([source], {}).containers["app"]

    assert container.environment == {"TOKEN": "t0ps3cret", "MODE": "own"}
    config = labels.container_config(container)
    assert config["environment"] == {"MODE": "own", "TOKEN": "(from env_file app.env)"}
    assert "t0ps3cret" not in labels.canonical_json(config)


VARIABLE_SPEC = HEAD + "    labels: {tag: '${TAG}', token: '${CI_JOB_TOKEN:-none}', site: $SITE}\n"


def test_the_policy_can_restrict_variables_to_a_list_and_the_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SITE=eu\n")
    source = SpecSource("app.yaml", str(tmp_path), VARIABLE_SPEC.encode())
    environment = {"TAG": "1.2", "CI_JOB_TOKEN": "glpat-xyz", "SITE": "us"}
    desired = build_desired_state([source], environment)
    assert dict(desired.containers["app"].labels) == {
        "tag": "1.2", "token": "glpat-xyz", "site": "us"
    }  # fmt: skip
    assert check_policy(desired, DEFAULT_POLICY) == []

    policy_file = tmp_path / "volplan.policy.yaml"
    policy_file.write_text("version: 1\nvariables: {allow: ['TA?']}\n")
    refused = check_policy(desired, read_policy(policy_file))
    # SITE is in .env, but the environment's value wins (as in Compose): refused too.
    assert [(str(p.position), p.rule, p.message.split()[1]) for p in refused] == [
        ("app.yaml:6:36", "variable-not-allowed", "CI_JOB_TOKEN"),
        ("app.yaml:6:67", "variable-not-allowed", "SITE"),
    ]
    from_dotenv = build_desired_state([source], {"TAG": "1.2"})
    assert [u.origin for u in from_dotenv.variables if u.name == "SITE"] == [Origin.DOTENV]
    assert [p.message.split()[1] for p in check_policy(from_dotenv, read_policy(policy_file))] == [
        "CI_JOB_TOKEN"
    ]


def test_interpolated_plain_scalars_take_their_type_quoted_ones_stay_strings(
    tmp_path: Path,
) -> None:
    text = HEAD + "    stop_timeout: ${T:-5}\n    labels: {n: '${T:-5}'}\n"
    container = build_desired_state([SpecSource("a.yaml", str(tmp_path), text.encode())], {})
    assert container.containers["app"].stop_timeout == 5
    assert container.containers["app"].labels == {"n": "5"}


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("A=1\n# comment\n\nexport B = two words \n", {"A": "1", "B": "two words"}),
        ("A='lit $X # not a comment'\n", {"A": "lit $X # not a comment"}),
        ('A="line\\nnext \\"q\\""  # note\n', {"A": 'line\nnext "q"'}),
        ("A=v # comment\nB=#not\n", {"A": "v", "B": "#not"}),
        ("A=\n", {"A": ""}),
    ],
)
def test_dotenv_files_read_as_compose_reads_them(text: str, values: dict[str, str]) -> None:
    assert parse_dotenv(text) == values


@pytest.mark.parametrize("text", ["TOKEN\n", "A B=1\n", "A='open\n", "A='x' y\n"])
def test_bad_dotenv_lines_are_refused_without_their_value(text: str) -> None:
    with pytest.raises(DotenvError) as caught:
        parse_dotenv(text)
    assert str(caught.value).startswith("line 1: ")
    assert "TOKEN" not in str(caught.value)
