"""``volplan import compose`` as a user meets it: names, profiles, variables, what is left
out and what is wrong, each said once with its file:line:column. No engine is needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.cli import RunCli

WEB = """\
services:
  web:
    image: nginx:${TAG:-1}
    build: .
    volumes:
      - data:/srv
    secrets: [token]
  debug:
    image: busybox
    profiles: [debug]
volumes:
  data: {}
secrets:
  token:
    file: token.txt
"""


def _one_space_before_comments(text: str) -> str:
    """ruamel.yaml sets end-of-line comments one or two spaces after the value."""
    return re.sub(r" +#", " #", text)


def _project(tmp_path: Path, text: str, folder: str = "My Shop.v2") -> Path:
    project = tmp_path / folder
    project.mkdir()
    (project / "compose.yaml").write_text(text)
    return project


def test_left_out_keys_are_listed_and_nothing_is_written(
    run_cli_offline: RunCli, tmp_path: Path
) -> None:
    project = _project(tmp_path, WEB)
    result = run_cli_offline("import", "compose", "compose.yaml", "-o", "specs", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "compose.yaml:8:3: note: services.debug: not imported: its profiles (debug) are not "
        "enabled (--profile)",
        "compose.yaml:13:1: left out: secrets: volplan has no equivalent of top-level secrets",
        "compose.yaml:4:5: left out: services.web.build: volplan builds no images; the image "
        "is used as is",
        "compose.yaml:7:5: left out: services.web.secrets: volplan has no equivalent",
        "error: 3 Compose keys cannot be expressed in a volplan spec (above); nothing was "
        "written. Give --allow-unsupported to write the spec without them.",
    ]
    assert not (project / "specs").exists()


def test_allowed_the_spec_is_written_named_as_compose_names_things(
    run_cli_offline: RunCli, tmp_path: Path
) -> None:
    project = _project(tmp_path, WEB)
    (project / ".env").write_text("TAG=1.27\n")
    result = run_cli_offline(
        "import", "compose", "compose.yaml", "--allow-unsupported", "--profile", "debug",
        "-o", "specs", cwd=project,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Wrote specs/myshopv2.yaml: 1 volume, 2 containers.\n"
    text = _one_space_before_comments((project / "specs" / "myshopv2.yaml").read_text())
    assert text.splitlines()[:4] == [
        "# yaml-language-server: $schema=spec.schema.json",
        "# Imported by 'volplan import compose' from compose.yaml (project myshopv2).",
        "version: 1",
        "project: myshopv2",
    ]
    assert "  myshopv2_data: {} # volume data (compose.yaml:12:3)" in text
    assert "  myshopv2-web-1: # service web (compose.yaml:2:3)" in text
    assert "    image: nginx:1.27" in text
    assert (project / "specs" / "spec.schema.json").is_file()
    validated = run_cli_offline("validate", "specs", cwd=project)
    assert validated.exit_code == 0, validated.stderr


def test_without_output_the_spec_goes_to_stdout(run_cli_offline: RunCli, tmp_path: Path) -> None:
    text = "services:\n  db:\n    image: postgres\n    volumes: [/data]\n    environment: [TOKEN]\n"
    project = _project(tmp_path, text)
    env = {"COMPOSE_PROJECT_NAME": "Shop", "TOKEN": "s3cret"}
    result = run_cli_offline("import", "compose", "compose.yaml", env=env, cwd=project)
    assert result.exit_code == 0, result.stderr
    # a bare KEY is read from the environment when the spec loads; its value is not copied
    assert '      TOKEN: "${TOKEN}"\n' in result.stdout
    assert "s3cret" not in result.stdout
    printed = _one_space_before_comments(result.stdout)
    assert "  shop-db-1: # service db (compose.yaml:2:3)\n" in printed
    assert "      - /data # from compose.yaml:4:15\n" in printed


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "services:\n  web:\n    image: [nginx\n",
            "compose.yaml:4:1: error: not valid YAML",
        ),
        (
            "services:\n  web:\n    image: nginx\n    volumes:\n      - cache:/cache\n",
            "compose.yaml:5:9: error: services.web.volumes[0]: named volume 'cache' is used "
            "but not declared in the top-level volumes [compose]",
        ),
        (
            "services:\n  web:\n    image: nginx:${TAG:?set a tag}\n",
            "compose.yaml:3:5: error: required variable TAG is missing a value: set a tag "
            "[missing-variable]",
        ),
        (
            "services:\n  web:\n    image: nginx\n    volumes_from: [db]\n",
            "compose.yaml:4:20: error: services.web.volumes_from[0]: no service named 'db' "
            "[compose]",
        ),
        (
            "web:\n  image: nginx\n",
            "compose.yaml:1:1: error: no services: section; the Compose file format 1",
        ),
        (
            "services:\n  web:\n    image: nginx\n    env_file: app.env\n",
            "compose.yaml:4:5: error: services.web.env_file[0]: env file 'app.env' does not "
            "exist [compose]",
        ),
    ],
    ids=["yaml", "undeclared-volume", "required-variable", "volumes-from", "v1", "env-file"],
)
def test_bad_compose_input_is_one_error_at_its_position(
    run_cli_offline: RunCli, tmp_path: Path, text: str, error: str
) -> None:
    project = _project(tmp_path, text, folder="shop")
    result = run_cli_offline("import", "compose", "compose.yaml", "-o", "specs", cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith(error), result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "specs").exists()


def test_a_given_project_name_must_be_valid(run_cli_offline: RunCli, tmp_path: Path) -> None:
    project = _project(tmp_path, "services: {}\n", folder="shop")
    result = run_cli_offline("import", "compose", "compose.yaml", "-p", "Shop!", cwd=project)
    assert result.exit_code == 1
    assert "'Shop!' is not a valid project name" in result.stderr
