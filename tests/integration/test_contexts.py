"""Docker contexts, resolved as the docker CLI resolves them: the CLI is the oracle.

Every case makes its contexts with ``docker context create`` in a docker config folder of
its own, then compares volplan's endpoint with ``docker context inspect`` (the context the
CLI would use, its host, its TLS files) and, against the private engine, with the engine
the CLI actually reaches (``docker info``'s daemon ID).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from support.docker_cli import DockerCli
from support.engine import Engine
from support.tls import Certificates, make_certificates

from reconciler.engine.contexts import Endpoint, resolve_endpoint
from reconciler.errors import ContextError

A, B, C, D = (f"tcp://127.0.0.1:{port}" for port in (2001, 2002, 2003, 2004))


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, certificates: Certificates) -> DockerCli:
    """A docker config with contexts ctx-a and ctx-b (plain), ctx-tls (CA and client
    certificate), ctx-ca (a CA only) and ctx-skip (TLS without verification)."""
    cli = DockerCli(tmp_path_factory.mktemp("docker-config"))
    tls = f"ca={certificates.ca},cert={certificates.cert},key={certificates.key}"
    for name, docker in [
        ("ctx-a", f"host={A}"),
        ("ctx-b", f"host={B}"),
        ("ctx-tls", f"host=tcp://127.0.0.1:2376,{tls}"),
        ("ctx-ca", f"host=tcp://127.0.0.1:2377,ca={certificates.ca}"),
        ("ctx-skip", "host=tcp://127.0.0.1:2378,skip-tls-verify=true"),
    ]:
        cli.ok("context", "create", name, "--docker", docker)
    return cli


def _with_current(cli: DockerCli, current: str | None) -> None:
    """Set (or clear) the config's currentContext, as ``docker context use`` does."""
    cli.ok("context", "use", current or "default")


def _cli_flags(host: str | None, context: str | None) -> list[str]:
    return [*(["--host", host] if host else []), *(["--context", context] if context else [])]


def _oracle(cli: DockerCli, host: str | None, context: str | None, env: Mapping[str, str]) -> str:
    found = cli.inspect(*_cli_flags(host, context), env=env)
    return f"{found['Name']} {found['Endpoints']['docker']['Host']}"


@pytest.mark.parametrize(
    ("host", "context", "env", "current"),
    [
        (None, None, {}, None),
        (None, None, {}, "ctx-a"),
        (None, None, {"DOCKER_CONTEXT": "ctx-b"}, "ctx-a"),
        (None, None, {"DOCKER_CONTEXT": "default"}, "ctx-a"),
        (None, None, {"DOCKER_HOST": C}, "ctx-a"),
        (None, None, {"DOCKER_HOST": C, "DOCKER_CONTEXT": "ctx-b"}, None),
        (None, "ctx-b", {"DOCKER_HOST": C}, "ctx-a"),
        (None, "default", {"DOCKER_HOST": C}, "ctx-a"),
        (None, "default", {}, "ctx-a"),
        (D, None, {"DOCKER_CONTEXT": "ctx-b"}, "ctx-a"),
        (D, None, {"DOCKER_HOST": C}, None),
    ],
)
def test_the_context_and_host_are_those_the_cli_picks(
    store: DockerCli,
    host: str | None,
    context: str | None,
    env: dict[str, str],
    current: str | None,
) -> None:
    _with_current(store, current)
    expected = _oracle(store, host, context, env)

    endpoint = resolve_endpoint(host, context, store.environment(env))

    assert f"{endpoint.context} {endpoint.host}" == expected


@pytest.mark.parametrize("name", ["ctx-a", "ctx-tls", "ctx-ca", "ctx-skip"])
def test_a_contexts_tls_material_is_what_the_cli_stored(store: DockerCli, name: str) -> None:
    found = store.inspect("--context", name)
    stored = Path(found["Storage"]["TLSPath"]) / "docker"

    endpoint = resolve_endpoint(None, name, store.environment())

    assert endpoint.host == found["Endpoints"]["docker"]["Host"]
    files = sorted(found["TLSMaterial"].get("docker", []))
    if not files and not found["Endpoints"]["docker"]["SkipTLSVerify"]:
        assert endpoint.tls is None
        return
    assert endpoint.tls is not None
    assert endpoint.tls.verify is not found["Endpoints"]["docker"]["SkipTLSVerify"]
    ours = [endpoint.tls.ca, endpoint.tls.cert, endpoint.tls.key]
    assert sorted(path.name for path in ours if path is not None) == files
    assert all(path.parent == stored for path in ours if path is not None)


@pytest.mark.parametrize("variable", ["DOCKER_TLS_VERIFY", "DOCKER_TLS"])
def test_the_default_contexts_tls_comes_from_the_environment(
    store: DockerCli, certificates: Certificates, variable: str
) -> None:
    env = {variable: "0", "DOCKER_CERT_PATH": str(certificates.folder)}  # "0" is set, too
    found = store.inspect("--context", "default", env=env)

    endpoint = resolve_endpoint(None, "default", store.environment(env))

    assert endpoint == Endpoint(
        found["Endpoints"]["docker"]["Host"],
        "default",
        endpoint.tls,
    )
    assert endpoint.tls is not None
    assert endpoint.tls.verify is not found["Endpoints"]["docker"]["SkipTLSVerify"]
    assert (endpoint.tls.ca, endpoint.tls.cert, endpoint.tls.key) == (
        certificates.ca,
        certificates.cert,
        certificates.key,
    )
    assert sorted(found["TLSMaterial"]["docker"]) == ["ca.pem", "cert.pem", "key.pem"]


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        (("--context", "nope"), {}, r"^unknown Docker context 'nope': there is no .*meta\.json"),
        ((), {"DOCKER_CONTEXT": "nope"}, r"^unknown Docker context 'nope'"),
        (("--context", "x"), {}, r"^context name 'x' is invalid"),
        (("--context", "ctx-a", "--host", A), {}, r"^conflicting options: cannot specify both"),
        (
            ("--context", "default"),
            {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/nonexistent"},
            r"^TLS is on .* there is no /nonexistent/ca\.pem",
        ),
    ],
)
def test_a_context_the_cli_refuses_is_one_clear_error(
    store: DockerCli, flags: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    _with_current(store, None)
    refused = store.run(*flags, "context", "inspect", env=env)
    host = flags[flags.index("--host") + 1] if "--host" in flags else None
    context = flags[flags.index("--context") + 1] if "--context" in flags else None

    with pytest.raises(ContextError, match=message):
        resolve_endpoint(host, context, store.environment(env))
    assert refused.returncode == 1, refused.stdout


def test_an_unreadable_meta_or_config_is_refused(store: DockerCli, tmp_path: Path) -> None:
    broken = DockerCli(tmp_path / "config")
    broken.ok("context", "create", "ctx-broken", "--docker", f"host={A}")
    meta = next((broken.config / "contexts" / "meta").glob("*/meta.json"))
    meta.write_text("{not json")
    (broken.config / "config.json").write_text("{not json")

    with pytest.raises(ContextError, match=r"^Docker context 'ctx-broken': cannot read "):
        resolve_endpoint(None, "ctx-broken", broken.environment())
    with pytest.raises(ContextError, match=r"^cannot read the docker config .*config\.json"):
        resolve_endpoint(None, None, broken.environment())
    assert broken.run("--context", "ctx-broken", "context", "inspect").returncode == 1


SPEC = """\
version: 1
project: ctx
volumes:
  data: {}
"""


def test_plan_reaches_the_engine_the_cli_reaches(clean_engine: Engine, tmp_path: Path) -> None:
    cli = DockerCli(tmp_path / "config")
    cli.ok("context", "create", "private", "--docker", f"host={clean_engine.host}")
    specs = tmp_path / "specs.yaml"
    specs.write_text(SPEC)
    engine_id = clean_engine.client.info()["ID"]

    applied = cli.volplan("apply", "--yes", "--context", "private", str(specs))
    by_variable = cli.volplan("plan", str(specs), env={"DOCKER_CONTEXT": "private"})
    cli.ok("context", "use", "private")
    by_config = cli.volplan("plan", str(specs))
    reached = cli.ok("info", "--format", "{{.ID}}").strip()

    assert reached == engine_id
    assert clean_engine.volume_names() == {"data"}, applied
    for output in (applied, by_variable, by_config):
        assert output.startswith(f"Plan for {clean_engine.host} "), output
    for output in (by_variable, by_config):
        assert "No changes. The engine matches the specs (1 resource)." in output, output


def test_an_unknown_context_stops_the_command_with_one_line(tmp_path: Path) -> None:
    cli = DockerCli(tmp_path / "config")
    specs = tmp_path / "specs.yaml"
    specs.write_text(SPEC)

    output = cli.volplan("plan", "--context", "nope", str(specs))

    assert output.startswith("exit 1: error: unknown Docker context 'nope': there is no "), output
    assert output.count("\n") == 1, output
