"""Names and values from a spec are data: no shell, no reserved labels, no label override."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from reconciler import labels
from reconciler.errors import SpecError
from specs import desired_from

PACKAGE = Path(labels.__file__).resolve().parent
PROCESS_STARTERS = {"system", "popen", "posix_spawn", "posix_spawnp", "fork", "forkpty"}


def test_no_module_starts_a_process() -> None:
    """subprocess and pty are forbidden by .importlinter; this covers os.system and friends."""
    calls = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and (node.attr in PROCESS_STARTERS or node.attr.startswith(("exec", "spawn")))
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    ]

    assert calls == []


@pytest.mark.parametrize(
    ("where", "key", "owner"),
    [
        ("volumes:\n  v1: {labels: {KEY: x}}\n", labels.PROTECT, "volplan's ownership records"),
        (
            "volumes:\n  v1: {labels: {KEY: x}}\n",
            "com.docker.volume.anonymous",
            "Docker's internal use",
        ),
        ("containers:\n  web: {image: bb, labels: {KEY: x}}\n", labels.CONFIG_HASH, "volplan's"),
        (
            "containers:\n  web: {image: bb, labels: {KEY: x}}\n",
            "io.docker.x",
            "Docker's internal use",
        ),
        ("containers:\n  web: {image: bb, labels: {KEY: x}}\n", "org.dockerproject.x", "Docker's"),
    ],
)
def test_reserved_label_keys_cannot_be_set(where: str, key: str, owner: str) -> None:
    with pytest.raises(SpecError) as caught:
        desired_from("version: 1\nproject: web\n" + where.replace("KEY", key))

    (problem,) = caught.value.problems
    assert f"are reserved for {owner}" in problem.message
    assert key in problem.message


def test_other_fields_cannot_reach_volplans_labels() -> None:
    desired = desired_from(
        "version: 1\nproject: web\nvolumes:\n"
        "  v1: {driver_opts: {io.volplan.project: other}}\ncontainers:\n"
        "  web:\n    image: bb\n    environment: {io.volplan.project: other}\n"
        "    command: \"sh -c 'id'; touch /tmp/pwned $(reboot)\"\n"
    )

    container_labels = labels.container_labels(desired.containers["web"])
    assert container_labels[labels.PROJECT] == "web"
    assert labels.volume_labels(desired.volumes["v1"])[labels.PROJECT] == "web"
    assert desired.containers["web"].command == (
        "sh",
        "-c",
        "id;",
        "touch",
        "/tmp/pwned",
        "$(reboot)",
    )


def test_a_colon_cannot_shift_the_fields_of_a_binds_string() -> None:
    text = (
        "version: 1\nproject: web\ncontainers:\n  web:\n    image: bb\n    mounts:\n"
        "      - {type: bind, source: '/srv/a:/etc', target: /x, create_host_path: true}\n"
    )

    with pytest.raises(SpecError) as caught:
        desired_from(text)

    assert [str(p) for p in caught.value.problems] == [
        "spec0.yaml:7:9: error: containers.web.mounts[0]: with create_host_path, source and "
        "target cannot contain ':' [invalid-value]"
    ]
