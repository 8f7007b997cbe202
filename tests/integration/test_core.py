"""The main job against a real private engine: validate, plan, apply, change, converge."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import RunCli
from support.engine import Engine
from support.examples import EXAMPLES, REPO, edit

from reconciler import labels

ALL_TOPOLOGIES = [*sorted({p.parent.name for p in EXAMPLES.glob("*/*.yaml")}), "specs"]
"""Every example folder that holds specs (examples/images holds Dockerfiles), and specs/."""


def apply(run_cli: RunCli, folder: Path, *extra: str) -> str:
    result = run_cli("apply", "--yes", str(folder), *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def assert_converged(run_cli: RunCli, folder: Path) -> None:
    result = run_cli("plan", "--detailed-exitcode", str(folder))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "No changes." in result.stdout


def container_ids(engine: Engine) -> dict[str, str]:
    return {c["Names"][0].lstrip("/"): c["Id"] for c in engine.client.containers(all=True)}


@pytest.mark.parametrize("name", ALL_TOPOLOGIES)
@pytest.mark.usefixtures("test_images")
def test_every_example_applies_and_a_second_plan_is_empty(
    name: str, clean_engine: Engine, run_cli: RunCli, example_copy: Callable[[str], Path]
) -> None:
    folder = example_copy(name)

    first = run_cli("plan", "--detailed-exitcode", str(folder))
    assert first.exit_code == 2, first.stderr
    apply(run_cli, folder)

    assert_converged(run_cli, folder)


def test_webapp_topology_is_real_on_the_engine(
    clean_engine: Engine, run_cli: RunCli, example_copy: Callable[[str], Path]
) -> None:
    folder = example_copy("webapp")
    apply(run_cli, folder)
    engine = clean_engine

    volume = engine.inspect_volume("webapp-data")
    assert volume["Labels"][labels.PROJECT] == "webapp"
    assert volume["Labels"]["team"] == "web"
    web_mounts = {m["Destination"]: m for m in engine.inspect_container("web")["Mounts"]}
    assert web_mounts["/webapp"]["Name"] == "webapp-data"
    assert web_mounts["/static"]["Type"] == "bind"
    assert web_mounts["/static"]["Source"] == str(folder / "static")
    assert web_mounts["/static"]["RW"] is False

    code, _ = engine.exec_sh("web", "touch /static/written")
    assert code != 0, "a write to a :ro bind mount must fail"
    assert engine.exec_sh("web", "cat /static/index.html")[1].startswith("<h1>")
    assert engine.exec_sh("web", "echo hello > /webapp/greeting")[0] == 0

    assert engine.inspect_container("dbstore")["State"]["Status"] == "created"
    (anonymous,) = engine.inspect_container("dbstore")["Mounts"]
    assert engine.exec_sh("db1", "echo shared > /dbdata/row")[0] == 0
    assert engine.exec_sh("db2", "cat /dbdata/row") == (0, "shared\n")
    backup_mount = engine.inspect_container("backup")["Mounts"]
    dbdata = next(m for m in backup_mount if m["Destination"] == "/dbdata")
    assert dbdata["Name"] == anonymous["Name"]
    assert dbdata["RW"] is False


def test_changing_one_mount_recreates_exactly_that_container_and_keeps_data(
    clean_engine: Engine, run_cli: RunCli, example_copy: Callable[[str], Path]
) -> None:
    folder = example_copy("readonly-config")
    apply(run_cli, folder)
    engine = clean_engine
    assert engine.exec_sh("config-writer", "cat /config/app.conf") == (0, "level=info\n")
    assert engine.exec_sh("reader-a", "touch /config/x")[0] != 0
    before = container_ids(engine)

    edit(folder, "app-config:/config:ro ", "app-config:/config ")
    plan = run_cli("plan", "--detailed-exitcode", str(folder))

    assert plan.exit_code == 2
    assert "~ recreate container.reader-a" in plan.stdout
    assert "mounts[/config].read_only: true -> false" in plan.stdout
    assert "Plan: 1 to recreate; 3 unchanged." in plan.stdout
    apply(run_cli, folder)
    after = container_ids(engine)
    assert {n for n in before if before[n] != after[n]} == {"reader-a"}
    assert engine.exec_sh("reader-a", "touch /config/x")[0] == 0
    assert engine.exec_sh("reader-a", "cat /config/app.conf") == (0, "level=info\n")
    assert engine.exec_sh("reader-b", "touch /config/y")[0] != 0
    assert_converged(run_cli, folder)


def test_recreating_the_data_volume_container_keeps_its_anonymous_volume(
    clean_engine: Engine, run_cli: RunCli, example_copy: Callable[[str], Path]
) -> None:
    folder = example_copy("webapp")
    apply(run_cli, folder)
    engine = clean_engine
    assert engine.exec_sh("db1", "echo precious > /dbdata/row")[0] == 0

    edit(folder, "command: [/bin/true]", "command: [/bin/sh]")
    edit(
        folder,
        "    volumes_from: [dbstore]\n    stop_timeout: 5\n\n  db2",
        "    volumes_from: [dbstore]\n    stop_timeout: 4\n\n  db2",
    )
    output = apply(run_cli, folder)

    assert "recreate container.dbstore" in output
    assert "recreate container.db1" in output
    assert engine.exec_sh("db1", "cat /dbdata/row") == (0, "precious\n")
    assert engine.exec_sh("db2", "cat /dbdata/row") == (0, "precious\n")
    assert not any(n.endswith("_volplan-old") for n in engine.container_names())
    assert_converged(run_cli, folder)


def test_a_volume_change_is_refused_without_opt_in_and_nothing_changes(
    clean_engine: Engine, run_cli: RunCli, example_copy: Callable[[str], Path]
) -> None:
    folder = example_copy("driver-options")
    apply(run_cli, folder)
    engine = clean_engine
    before = container_ids(engine)

    edit(folder, "size=16m", "size=32m")
    refused = run_cli("apply", "--yes", str(folder))

    assert refused.exit_code == 1
    assert "refusing to destroy data: volume.scratch" in refused.stderr
    assert "! replace  volume.scratch  [destroys-data]" in refused.stdout
    assert container_ids(engine) == before
    assert engine.inspect_volume("scratch")["Options"]["o"] == "size=16m,uid=1000"

    apply(run_cli, folder, "--allow-data-loss")
    assert engine.inspect_volume("scratch")["Options"]["o"] == "size=32m,uid=1000"
    assert_converged(run_cli, folder)


def test_an_unlabelled_volume_is_adopted_when_it_matches_and_a_conflict_when_not(
    clean_engine: Engine, run_cli: RunCli, example_copy: Callable[[str], Path]
) -> None:
    folder = example_copy("readonly-config")
    clean_engine.client.create_volume("app-config", labels={"purpose": "configuration"})

    plan = run_cli("plan", str(folder))
    assert "= adopt    volume.app-config\n" in plan.stdout

    clean_engine.client.remove_volume("app-config")
    clean_engine.client.create_volume("app-config", labels={"purpose": "other"})
    conflict = run_cli("plan", str(folder))
    assert conflict.exit_code == 1
    assert (
        "volume.app-config: a volume of that name exists, was not created by volplan"
        in conflict.stderr
    )
    assert "labels.purpose: live 'other', spec 'configuration'" in conflict.stderr


def test_bad_specs_give_one_clear_error_and_touch_nothing(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "version: 1\nproject: broken\ncontainers:\n  web:\n    image: busybox\n"
        "    mounts: ['data:/data']\n"
    )

    result = run_cli("apply", "--yes", str(tmp_path))

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert (
        "bad.yaml:6:14: error: containers.web.mounts[/data]: volume 'data' is not declared"
        in result.stderr
    )
    assert clean_engine.volume_names() == set()
    assert clean_engine.container_names() == set()


def test_a_missing_bind_source_is_an_error_at_plan_time(
    clean_engine: Engine, run_cli: RunCli, example_copy: Callable[[str], Path]
) -> None:
    folder = example_copy("webapp")
    (folder / "static" / "index.html").unlink()
    (folder / "static").rmdir()

    result = run_cli("plan", str(folder))

    assert result.exit_code == 1
    assert f"bind source {folder}/static does not exist on this host" in result.stderr
    assert "webapp.yaml:48:9" in result.stderr


def test_a_failing_pull_names_the_image_and_changes_nothing(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    (tmp_path / "pull.yaml").write_text(
        "version: 1\nproject: pull\nvolumes: {pulled-data: {}}\ncontainers:\n"
        "  puller: {image: '127.0.0.1:9/volplan/none:1', network_mode: none}\n"
    )

    result = run_cli("apply", "--yes", str(tmp_path))

    assert result.exit_code == 1
    assert "pulling image 127.0.0.1:9/volplan/none:1" in result.stderr
    assert clean_engine.volume_names() == set()


def test_usage_errors_exit_1_never_2(run_cli_offline: RunCli) -> None:
    for args in (("plan", "--no-such-flag", "specs"), ("plna", "specs"), ("plan",)):
        result = run_cli_offline(*args)
        assert result.exit_code == 1, args
        assert "error:" in result.stderr


def test_validate_needs_no_engine_and_an_unreachable_engine_is_one_line(
    run_cli_offline: RunCli,
) -> None:
    assert run_cli_offline("validate", str(REPO / "specs")).exit_code == 0

    result = run_cli_offline("plan", str(REPO / "specs"))

    assert result.exit_code == 1
    assert result.stderr.startswith("error: connecting to the Docker engine at unix://")
    assert result.stderr.count("\n") == 1


def test_apply_without_a_terminal_needs_yes(clean_engine: Engine, run_cli: RunCli) -> None:
    result = run_cli("apply", str(REPO / "specs"))

    assert result.exit_code == 1
    assert "re-run with --yes" in result.stderr
    assert clean_engine.container_names() == set()


def test_create_host_path_makes_the_missing_bind_source(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path
) -> None:
    spec = tmp_path / "specs"
    spec.mkdir()
    (spec / "host.yaml").write_text(
        "version: 1\nproject: hostpath\ncontainers:\n  host-user:\n    image: busybox\n"
        "    network_mode: none\n    command: [sh, -c, 'echo made > /out/file; sleep 600']\n"
        "    stop_timeout: 1\n    mounts:\n"
        "      - {type: bind, source: ./made/here, target: /out, create_host_path: true}\n"
    )

    apply(run_cli, spec)

    assert (spec / "made" / "here").is_dir()
    assert_converged(run_cli, spec)
