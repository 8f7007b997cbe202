"""What a new user hit on a first afternoon with volplan (issue 12 part 5), one test each,
through the real CLI: on a real pseudo-terminal where only a terminal shows it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.cli import CliResult, RunCli
from support.engine import Engine
from support.gitops import write_specs
from support.pty_cli import run_on_pty

engine = pytest.mark.engine  # the tests without it need no engine

ONE_CONTAINER = """\
    version: 1
    project: shop
    volumes:
      data: {}
    containers:
      app:
        image: busybox:latest
        command: sleep 300
        network_mode: none
        stop_timeout: 1
        mounts: ["data:/data"]
    """


@engine
def test_no_color_on_a_terminal_writes_no_escape_code(clean_engine: Engine, tmp_path: Path) -> None:
    write_specs(tmp_path, ONE_CONTAINER)
    runs = {
        "plan": ("plan", "specs"),
        "error": ("plan", "specs", "-H", "bogus://x"),
        "help": ("plan", "--help"),
        "top help": (),
    }
    for what, args in runs.items():
        coloured = run_on_pty(*args, docker_host=clean_engine.host, cwd=tmp_path)
        plain = run_on_pty(
            *args, docker_host=clean_engine.host, env={"NO_COLOR": "1"}, cwd=tmp_path
        )

        assert "\x1b[" in coloured.stdout, what  # the terminal does get styles without it
        assert "\x1b[" not in plain.stdout, (what, plain.stdout)
        assert plain.stdout.strip(), what


def _answer(engine: Engine, tmp_path: Path, typed: str) -> CliResult:
    """``volplan apply`` on a terminal, the person typing ``typed`` at its prompt."""
    write_specs(tmp_path, ONE_CONTAINER)
    return run_on_pty(
        "apply", "specs", docker_host=engine.host, typed=typed, env={"NO_COLOR": "1"}, cwd=tmp_path
    )


@engine
@pytest.mark.parametrize(
    ("typed", "applied"),
    [
        ("yes\n", True),
        ("Y\n", True),
        ("y\n", True),
        ("no\n", False),
        ("\n", False),
        ("\x04", False),
    ],
)
def test_the_prompt_takes_yes_and_no_and_end_of_input_is_no(
    clean_engine: Engine, tmp_path: Path, typed: str, applied: bool
) -> None:
    run = _answer(clean_engine, tmp_path, typed)

    assert "Please" not in run.stdout
    if applied:
        assert run.exit_code == 0, run.stdout
        assert "Apply complete" in run.stdout
        assert clean_engine.client.volumes(filters={"name": "data"})["Volumes"]
    else:
        assert run.exit_code == 1, run.stdout
        assert "error: apply cancelled; nothing was changed" in run.stdout
        assert "Traceback" not in run.stdout
        assert not clean_engine.client.containers(all=True)


@engine
def test_the_prompt_asks_again_after_an_answer_it_does_not_know(
    clean_engine: Engine, tmp_path: Path
) -> None:
    run = _answer(clean_engine, tmp_path, "maybe\nno\n")

    assert run.exit_code == 1
    assert run.stdout.count("Apply these changes? [y/N]:") == 2
    assert "Please answer yes or no (y/n)." in run.stdout


@engine
def test_plan_with_allow_data_loss_does_not_ask_for_it(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, ONE_CONTAINER)
    clean_engine.client.create_volume("old", labels={"io.volplan.project": "shop"})

    asked = run_cli("plan", "specs", "--prune", cwd=tmp_path)
    allowed = run_cli("plan", "specs", "--prune", "--allow-data-loss", cwd=tmp_path)

    assert "1 action destroys data and needs --allow-data-loss." in asked.stdout
    assert "1 action destroys data (allowed by --allow-data-loss)." in allowed.stdout
    assert "need --allow-data-loss" not in allowed.stdout
    assert "needs --allow-data-loss" not in allowed.stdout


def test_a_single_spec_file_is_accepted(run_cli_offline: RunCli, tmp_path: Path) -> None:
    specs = write_specs(tmp_path, ONE_CONTAINER)

    result = run_cli_offline("validate", str(specs / "shop.yaml"), cwd=tmp_path)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"{specs / 'shop.yaml'}: valid (1 volume, 1 container, 1 project: shop)\n"
    )


def test_a_path_that_is_neither_file_nor_folder_says_so_without_a_position(
    run_cli_offline: RunCli, tmp_path: Path
) -> None:
    missing = run_cli_offline("validate", "nowhere", cwd=tmp_path)
    device = run_cli_offline("validate", "/dev/null", cwd=tmp_path)

    assert (missing.exit_code, missing.stderr) == (
        1,
        "error: nowhere: does not exist; give a spec folder or a spec file\n",
    )
    assert (device.exit_code, device.stderr) == (
        1,
        "error: /dev/null: is neither a file nor a folder; give a spec folder or a spec file\n",
    )


def test_hidden_folders_are_not_specs(run_cli_offline: RunCli, tmp_path: Path) -> None:
    write_specs(tmp_path, ONE_CONTAINER)
    write_specs(tmp_path, "on: [push]\njobs: {", folder="specs/.github/workflows", name="ci.yml")
    write_specs(tmp_path, "not: [a spec", folder="specs/.git", name="x.yaml")

    result = run_cli_offline("validate", "specs", cwd=tmp_path)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "specs: valid (1 volume, 1 container, 1 project: shop)\n"


def test_an_empty_spec_set_is_an_error_unless_allowed(
    run_cli_offline: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, "# nothing here yet\n")

    refused = run_cli_offline("validate", "specs", cwd=tmp_path)
    allowed = run_cli_offline("validate", "specs", "--allow-empty", cwd=tmp_path)

    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        "error: specs: the spec files declare no project (every document is empty); "
        "pass --allow-empty if that is meant\n"
    )
    assert (allowed.exit_code, allowed.stdout) == (
        0,
        "specs: valid (0 volumes, 0 containers, 0 projects)\n",
    )


def test_backup_refuses_a_file_name_it_cannot_write(
    run_cli_offline: RunCli, tmp_path: Path
) -> None:
    result = run_cli_offline("backup", "data", "-o", "data.zip", cwd=tmp_path)

    assert result.exit_code == 1
    assert result.stderr == (
        "error: data.zip: volplan writes tar archives only; name the file NAME.tar, "
        "NAME.tar.gz or NAME.tgz\n"
    )
    assert not (tmp_path / "data.zip").exists()


@engine
def test_backups_are_private_to_their_owner(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    clean_engine.client.create_volume("data")
    (tmp_path / "old.tar").write_bytes(b"")
    (tmp_path / "old.tar").chmod(0o644)

    made = run_cli("backup", "data", "-o", "data.tar.gz", cwd=tmp_path, env={"UMASK": "022"})
    over = run_cli("backup", "data", "-o", "old.tar", cwd=tmp_path)

    assert (made.exit_code, over.exit_code) == (0, 0), made.stderr + over.stderr
    assert (tmp_path / "data.tar.gz").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "old.tar").stat().st_mode & 0o777 == 0o600


def test_version_option(run_cli_offline: RunCli) -> None:
    option, command = run_cli_offline("--version"), run_cli_offline("version")

    assert option.exit_code == 0
    assert option.stdout.strip() == command.stdout.strip()
    assert option.stdout.strip().count(".") == 2


def test_usage_errors_point_at_the_command_they_were_made_in(run_cli_offline: RunCli) -> None:
    option = run_cli_offline("plan", "specs", "--bogus")
    argument = run_cli_offline("drift")
    command = run_cli_offline("bogus")

    assert option.stderr.endswith("(see volplan plan --help)\n")
    assert argument.stderr.endswith("(see volplan drift --help)\n")
    assert command.stderr.endswith("(see volplan --help)\n")
    assert {option.exit_code, argument.exit_code, command.exit_code} == {1}


@engine
def test_plan_and_drift_take_both_spellings_of_the_output_file(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, ONE_CONTAINER)

    for command in ("plan", "drift"):
        for spelling in ("--out", "--output", "-o"):
            result = run_cli(command, "specs", spelling, f"{command}{spelling}.out", cwd=tmp_path)
            assert result.exit_code in {0, 2}, result.stderr
            assert (tmp_path / f"{command}{spelling}.out").stat().st_size > 0


OPTION_ROW = re.compile(r"\W*(?P<option>--[a-z-]+)\S*\s+(?:-[A-Za-z]\s+)?(?P<placeholder>\S+)")
VALUED_OPTIONS = {
    "--host",
    "--policy",
    "--helper-image",
    "--out",
    "--output",
    "--backup-dir",
    "--lock-timeout",
    "--parallelism",
}


def test_help_texts_use_one_placeholder_style(run_cli_offline: RunCli) -> None:
    commands = (
        "validate",
        "plan",
        "apply",
        "drift",
        "status",
        "unlock",
        "backup",
        "restore",
        "watch",
    )
    for command in commands:
        shown = run_cli_offline(command, "--help", env={"COLUMNS": "200"}).stdout
        usage = next(line for line in shown.splitlines() if "Usage:" in line)
        assert usage.split("[OPTIONS]")[1].strip().strip("{}[]").isupper(), usage
        seen = set()
        for line in shown.splitlines():
            row = OPTION_ROW.match(line)
            if row and row["option"] in VALUED_OPTIONS:
                assert row["placeholder"].isupper(), (command, line)
                seen.add(row["option"])
        assert "--policy" in seen if command == "validate" else "--host" in seen, command


def test_a_bad_engine_address_is_not_an_engine_that_did_not_answer(
    run_cli_offline: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, ONE_CONTAINER)

    result = run_cli_offline("plan", "specs", "-H", "bogus://x", cwd=tmp_path)

    assert result.exit_code == 1
    assert result.stderr == (
        "error: 'bogus://x' is not an engine address: use unix:///PATH, tcp://HOST:PORT or "
        "ssh://USER@HOST (the schemes are unix, tcp, http, https, ssh, npipe)\n"
    )


@engine
def test_recreating_a_hand_made_container_shows_the_fields_that_differ(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, ONE_CONTAINER)
    client = clean_engine.client
    client.tag("busybox:latest", "hand-made", "v1")
    host_config = client.create_host_config(network_mode="none", binds=["data:/data"])
    client.create_container(
        "hand-made:v1",
        ["sleep", "300"],
        name="app",
        labels={"team": "x"},
        host_config=host_config,
    )

    plan = run_cli("plan", "specs", cwd=tmp_path)

    assert plan.exit_code == 0, plan.stderr
    lines = plan.stdout.splitlines()
    at = lines.index("~ adopt    container.app  [restarts-container]  (specs/shop.yaml:6)")
    assert lines[at + 1 : at + 5] == [
        "      a container of that name exists but was not created by volplan; recreated to "
        "gain volplan's labels, its anonymous and image volumes carried over",
        "      image: hand-made:v1 -> busybox:latest",
        "      labels.team: x -> (none)",
        "      state: created -> running",
    ]


@engine
def test_changing_restart_and_state_together_lists_both(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, ONE_CONTAINER)
    assert run_cli("apply", "specs", "--yes", cwd=tmp_path).exit_code == 0
    changed = ONE_CONTAINER.replace(
        "stop_timeout: 1", "stop_timeout: 1\n        restart: always\n        state: created"
    )
    write_specs(tmp_path, changed)

    plan = run_cli("plan", "specs", cwd=tmp_path)

    lines = plan.stdout.splitlines()
    at = lines.index("~ recreate container.app  [restarts-container]  (specs/shop.yaml:6)")
    assert lines[at + 2 : at + 4] == [
        "      restart: (none) -> always",
        "      state: running -> created",
    ]


@engine
def test_status_names_whose_anonymous_volume_it_is(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    client = clean_engine.client
    client.create_container(
        "busybox:latest",
        "true",
        name="dbstore",
        volumes=["/dbdata"],
        host_config=client.create_host_config(network_mode="none", binds=[]),
    )
    client.create_container(
        "busybox:latest",
        "true",
        name="db",
        host_config=client.create_host_config(network_mode="none", volumes_from=["dbstore"]),
    )
    left = client.create_volume()["Name"]  # anonymous, and used by nobody
    (mount,) = clean_engine.inspect_container("dbstore")["Mounts"]

    text = run_cli("status", cwd=tmp_path)
    document = json.loads(run_cli("status", "--format", "json", cwd=tmp_path).stdout)

    lines = text.stdout.splitlines()
    assert f"  dbstore:/dbdata (anonymous {mount['Name'][:12]})  local  0 B  [unlabelled]" in lines
    assert f"  unmounted (anonymous {left[:12]})  local  0 B  [unlabelled]" in lines
    assert f"  {left[:12]} (anonymous)" in lines
    owners = {v["name"]: v["anonymous_of"] for v in document["volumes"]}
    assert owners == {mount["Name"]: "dbstore:/dbdata", left: None}


@engine
def test_counts_agree_with_their_nouns(
    clean_engine: Engine, run_cli: RunCli, run_cli_offline: RunCli, tmp_path: Path
) -> None:
    write_specs(tmp_path, ONE_CONTAINER.replace("mounts:", "bogus: 1\n        mounts:"))
    one = run_cli_offline("validate", "specs", cwd=tmp_path)
    write_specs(
        tmp_path, ONE_CONTAINER.replace("mounts:", "bogus: 1\n        tyop: 2\n        mounts:")
    )
    two = run_cli_offline("validate", "specs", cwd=tmp_path)
    write_specs(tmp_path, ONE_CONTAINER.replace("data: {}", "data: {}\n      spare: {}"))
    write_specs(tmp_path, "version: 1\nproject: solo\nvolumes: {only: {}}\n", name="solo.yaml")
    applied = run_cli("apply", "specs", "--yes", cwd=tmp_path)
    clean_engine.client.remove_volume("only")
    again = run_cli("apply", "specs", "--yes", cwd=tmp_path)

    assert one.stderr.splitlines()[-1] == "1 problem found; nothing was changed."
    assert two.stderr.splitlines()[-1] == "2 problems found; nothing was changed."
    assert applied.stdout.splitlines()[-1] == "Apply complete: 4 actions done."
    assert again.stdout.splitlines()[-1] == "Apply complete: 1 action done."
    assert "(1 resource)." in run_cli("plan", "specs/solo.yaml", cwd=tmp_path).stdout
