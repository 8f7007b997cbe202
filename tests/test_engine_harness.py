"""The private-engine harness works: image present, volumes persist, :ro binds refuse writes."""

from pathlib import Path

import pytest
from docker.types import Mount
from support.engine import IMAGE, Engine

pytestmark = pytest.mark.engine


def test_images_are_built_locally(engine: Engine) -> None:
    tags = {tag for image in engine.client.images() for tag in image["RepoTags"] or []}
    assert {IMAGE, "volplan-helper:latest"} <= tags


def test_named_volume_keeps_data_across_containers(clean_engine: Engine) -> None:
    clean_engine.client.create_volume("harness-data")
    mount = Mount(target="/data", source="harness-data", type="volume")

    assert clean_engine.run_with_volumes("echo hello > /data/greeting", mounts=[mount]) == (0, "")
    assert clean_engine.run_with_volumes("cat /data/greeting", mounts=[mount]) == (0, "hello\n")
    assert clean_engine.volume_names() == {"harness-data"}
    assert clean_engine.container_names() == set()


def test_read_only_bind_refuses_writes(clean_engine: Engine, tmp_path: Path) -> None:
    exit_code, output = clean_engine.run_with_volumes(
        "touch /host/file", binds=[f"{tmp_path}:/host:ro"]
    )

    assert exit_code != 0
    assert "Read-only file system" in output
    assert not (tmp_path / "file").exists()


def test_exec_volumes_from_and_reset(clean_engine: Engine) -> None:
    client = clean_engine.client
    client.create_container(
        IMAGE,
        ["sleep", "300"],
        name="harness-holder",
        volumes=["/shared"],
        host_config=client.create_host_config(network_mode="none"),
    )
    client.start("harness-holder")

    assert clean_engine.exec_sh("harness-holder", "echo held > /shared/x && id -u") == (0, "0\n")
    assert clean_engine.exec_sh("harness-holder", "exit 7") == (7, "")
    assert clean_engine.run_with_volumes("cat /shared/x", volumes_from=["harness-holder"]) == (
        0,
        "held\n",
    )
    volume = clean_engine.inspect_container("harness-holder")["Mounts"][0]["Name"]
    assert clean_engine.inspect_volume(volume)["Driver"] == "local"

    clean_engine.reset()
    assert clean_engine.container_names() == set()
    assert clean_engine.volume_names() == set()
