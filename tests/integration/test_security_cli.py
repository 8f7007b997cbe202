"""Untrusted specs through the real CLI against a real local engine: the host-path policy,
and values that look like shell commands reaching the engine as plain data."""

from __future__ import annotations

from pathlib import Path

from support.cli import RunCli
from support.engine import Engine

from reconciler.spec.system_paths import DEFAULT_DENY

HOSTNAME_FILE = "/etc/hostname"


def write_spec(folder: Path, mounts: list[str]) -> Path:
    folder.mkdir(exist_ok=True)
    lines = "".join(
        f"      - {{type: bind, source: '{m}', target: /m{i}, read_only: true}}\n"
        for i, m in enumerate(mounts)
    )
    (folder / "host.yaml").write_text(
        "version: 1\nproject: hostpaths\ncontainers:\n  prober:\n    image: busybox\n"
        "    network_mode: none\n    command: [sleep, '600']\n    stop_timeout: 1\n"
        f"    mounts:\n{lines}"
    )
    return folder


def spec_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "spec.yaml").write_text(text)
    return folder


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


def test_every_denied_path_is_refused_by_apply_and_nothing_is_created(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    link = tmp_path / "innocent"
    link.symlink_to("/etc")
    socket = clean_engine.host.removeprefix("unix://")
    tricks = ["/srv/app/../../etc", "//etc/", "/var", "/", f"{link}/ssl", socket]
    denied = [path.replace("*", "alice") for path in DEFAULT_DENY]
    specs = write_spec(tmp_path / "specs", denied + tricks)

    result = run_cli("apply", "--yes", str(specs))

    assert result.exit_code == 1, result.stdout
    assert "Traceback" not in result.stderr
    problems = problem_lines(result.stderr)
    assert len(problems) == len(denied) + len(tricks)
    assert all("[host-path-denied]" in line for line in problems)
    for index, path in enumerate(denied):
        assert f"mounts[/m{index}]: bind source {path} " in problems[index]
    shown = "\n".join(problems)
    assert "mounts[/m19]: bind source /etc is denied by the built-in policy" in shown
    assert "mounts[/m21]: bind source /var would expose /var/lib/docker" in shown
    assert f"mounts[/m23]: bind source {link}/ssl resolves to /etc/ssl on this host" in shown
    assert (
        f"mounts[/m24]: bind source {socket} is denied by volplan as the managed engine's socket"
        in shown
    )
    assert problems[0].startswith(f"{specs}/host.yaml:10:9: error: containers.prober.mounts[/m0]")
    assert clean_engine.container_names() == set()
    assert clean_engine.volume_names() == set()


def test_a_policy_file_allows_one_denied_path_for_real(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    specs = write_spec(tmp_path / "specs", [HOSTNAME_FILE])
    ops = tmp_path / "ops"
    ops.mkdir()
    (ops / "volplan.policy.yaml").write_text(
        f"version: 1\nhost_paths:\n  allow: [/tmp, {HOSTNAME_FILE}]\n  read_write: false\n"
    )

    refused = run_cli("plan", str(specs))
    assert refused.exit_code == 1
    assert f"bind source {HOSTNAME_FILE} lies under /etc" in refused.stderr

    applied = run_cli("apply", "--yes", str(specs), cwd=ops)
    assert applied.exit_code == 0, applied.stderr
    code, output = clean_engine.exec_sh("prober", "cat /m0")
    assert (code, output) == (0, Path(HOSTNAME_FILE).read_text())
    assert (
        run_cli("validate", "--policy", str(ops / "volplan.policy.yaml"), str(specs)).exit_code == 0
    )


def test_the_policy_is_never_taken_implicitly_from_the_spec_directory(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    specs = write_spec(tmp_path / "specs", ["/srv/data"])
    (specs / "volplan.policy.yaml").write_text("version: 1\nhost_paths: {allow: [/]}\n")

    result = run_cli("plan", ".", cwd=specs)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: refusing to use ")
    assert "inside the spec directory under review" in result.stderr
    assert clean_engine.container_names() == set()


def test_validate_reports_every_violation_of_a_policy(
    run_cli_offline: RunCli, tmp_path: Path
) -> None:
    specs = spec_folder(
        tmp_path,
        "version: 1\nproject: app\nvolumes:\n  data: {driver: flocker}\ncontainers:\n"
        "  web:\n    image: busybox\n    mounts: ['/srv/a:/a', '/opt/b:/b:ro', 'data:/d']\n",
    )
    policy = tmp_path / "strict.yaml"
    policy.write_text(
        "version: 1\nhost_paths: {allow: [/srv], read_write: false}\n"
        "required_labels: {containers: [owner]}\n"
    )

    result = run_cli_offline("validate", "--policy", str(policy), str(specs))

    assert result.exit_code == 1
    rules = [line.rsplit("[", 1)[1] for line in problem_lines(result.stderr)]
    assert rules == [
        "volume-driver-not-allowed]",
        "missing-required-label]",
        "read-write-bind]",
        "host-path-not-allowed]",
    ]
    assert result.stderr.endswith("4 problems found; nothing was changed.\n")


def test_shell_syntax_in_values_reaches_the_engine_as_data(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    payload = f"$(touch {marker}); `touch {marker}` && touch {marker}"
    specs = spec_folder(
        tmp_path,
        "version: 1\nproject: data\nvolumes:\n"
        f"  payload-vol: {{labels: {{note: '{payload}'}}}}\n"
        "containers:\n  payload:\n    image: busybox\n    state: created\n"
        "    network_mode: none\n"
        f"    command: [echo, '{payload}']\n"
        f"    environment: {{PAYLOAD: '{payload}'}}\n"
        f"    labels: {{note: '{payload}'}}\n",
    )

    result = run_cli("apply", "--yes", str(specs))

    assert result.exit_code == 0, result.stderr
    config = clean_engine.inspect_container("payload")["Config"]
    assert config["Cmd"] == ["echo", payload]
    assert f"PAYLOAD={payload}" in config["Env"]
    assert config["Labels"]["note"] == payload
    assert clean_engine.inspect_volume("payload-vol")["Labels"]["note"] == payload
    assert not marker.exists()


def test_a_saved_plan_is_checked_against_the_policy_again_when_applied(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    specs = write_spec(tmp_path / "specs", [HOSTNAME_FILE])
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(f"version: 1\nhost_paths: {{allow: ['/', {HOSTNAME_FILE}]}}\n")
    saved = tmp_path / "plan.json"
    planned = run_cli("plan", str(specs), "--policy", str(lenient), "--out", str(saved))
    assert planned.exit_code == 0, planned.stderr

    result = run_cli("apply", str(saved), cwd=tmp_path)

    assert result.exit_code == 1
    assert f"bind source {HOSTNAME_FILE} lies under /etc, denied by the built-in policy" in (
        result.stderr
    )
    assert clean_engine.container_names() == set()
