"""Where Podman's Docker-compatible API (4.3) and dockerd (20.10) differ, pinned on both.

Each test runs against whichever engine the session started (``VOLPLAN_TEST_ENGINE``;
scripts/test runs these on both) and states what that engine does: what volplan relies on
is the same, what differs is handled (named in each test) or documented in the README.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from support.cli import RunCli
from support.engine import Engine

from reconciler.engine.adapter import DockerEngine
from reconciler.engine.error_map import mapped
from reconciler.errors import EngineConflict

pytestmark = pytest.mark.engine

PODMAN_QUOTA = "volume options size and inodes not supported"


@pytest.fixture
def podman(clean_engine: Engine) -> bool:
    return clean_engine.kind == "podman"


@pytest.fixture
def holder(clean_engine: Engine) -> Iterator[str]:
    """A container that ran once and wrote ``/data/sub/f`` into volume ``data``."""
    client = clean_engine.client
    host_config = client.create_host_config(
        network_mode="none", mounts=[docker.types.Mount("/data", "data")]
    )
    container = client.create_container(
        "busybox:latest",
        ["sh", "-c", "mkdir -p /data/sub && echo hi > /data/sub/f"],
        host_config=host_config,
        labels={"team": "db"},
        name="holder",
    )["Id"]
    client.start(container)
    client.wait(container, timeout=60)
    yield container
    client.remove_container(container, force=True)


def test_volume_inspect_and_labels_are_the_same(clean_engine: Engine, podman: bool) -> None:
    """What volplan reads of a volume (records.parse_volume) has the same shape."""
    options = {"type": "tmpfs", "device": "tmpfs"}
    clean_engine.client.create_volume("same", driver="local", driver_opts=options,
                                      labels={"team": "db"})  # fmt: skip

    found = clean_engine.inspect_volume("same")
    listed = [v for v in clean_engine.client.volumes()["Volumes"] if v["Name"] == "same"]

    assert (found["Driver"], found["Labels"], found["Options"], found["Scope"]) == (
        "local",
        {"team": "db"},
        options,
        "local",
    )
    assert listed == [found]
    assert found["Mountpoint"].endswith("/volumes/same/_data")


def test_a_tmpfs_size_option_needs_project_quota_on_podman(
    clean_engine: Engine, podman: bool
) -> None:
    """Podman reads ``o=size=`` of the local driver as an XFS project quota; the
    driver-options example is therefore not run on Podman. volplan reports the engine's
    words (create volume.x: FAILED: ...) and changes nothing else."""
    options = {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    if podman:
        with pytest.raises(docker.errors.APIError, match=PODMAN_QUOTA):
            clean_engine.client.create_volume("sized", driver_opts=options)
    else:
        clean_engine.client.create_volume("sized", driver_opts=options)
        assert clean_engine.inspect_volume("sized")["Options"] == options


def test_container_labels_mounts_and_image_as_listed(
    clean_engine: Engine, holder: str, podman: bool
) -> None:
    """Labels and volume mounts read the same; Podman names the image fully
    (``docker.io/library/busybox:latest``) and reports ``rprivate`` propagation on a
    volume mount, neither of which volplan compares (it compares image IDs, and
    propagation of binds only: diff/differ.py)."""
    listed = next(c for c in clean_engine.client.containers(all=True) if c["Id"] == holder)
    inspected = clean_engine.inspect_container(holder)

    assert listed["Labels"] == inspected["Config"]["Labels"] == {"team": "db"}
    assert [(m["Type"], m["Name"], m["Destination"], m["RW"]) for m in listed["Mounts"]] == [
        ("volume", "data", "/data", True)
    ]
    expected_image = "docker.io/library/busybox:latest" if podman else "busybox:latest"
    assert listed["Image"] == expected_image
    assert listed["Mounts"][0]["Propagation"] == ("rprivate" if podman else "")


def test_mounts_are_reported_as_binds_in_host_config_by_podman(
    clean_engine: Engine, holder: str, podman: bool
) -> None:
    """Container create options: a ``Mounts`` entry comes back in ``HostConfig.Binds`` on
    Podman. volplan reads mounts from the container's ``Mounts`` only, which agree."""
    host_config = clean_engine.inspect_container(holder)["HostConfig"]

    if podman:
        assert host_config.get("Mounts") is None
        assert host_config["Binds"] == ["data:/data:rw,rprivate,nosuid,nodev,rbind"]
    else:
        assert host_config["Mounts"] == [{"Type": "volume", "Source": "data", "Target": "/data"}]
        assert host_config.get("Binds") is None


def test_volumes_from_inherits_binds_that_podman_does_not_report(
    clean_engine: Engine, tmp_path_factory: pytest.TempPathFactory, podman: bool
) -> None:
    """Podman gives a volumes_from consumer its source's bind mounts, but leaves them out
    of the consumer's ``Mounts`` (inherited volumes it lists). volplan reads them from the
    live source on Podman (diff/differ._inherited_binds), so the readonly-config example
    converges there too (test_core)."""
    source = tmp_path_factory.mktemp("bind")
    (source / "x").write_text("hello")
    client = clean_engine.client
    host_config = client.create_host_config(network_mode="none", binds=[f"{source}:/etc/app:ro"])
    client.create_container("busybox:latest", ["true"], host_config=host_config, name="giver")

    code, output = clean_engine.run_with_volumes("cat /etc/app/x", volumes_from=["giver:ro"])
    consumer = client.create_host_config(network_mode="none", volumes_from=["giver:ro"])
    taker = client.create_container("busybox:latest", ["true"], host_config=consumer)["Id"]
    reported = [m["Destination"] for m in clean_engine.inspect_container(taker)["Mounts"]]

    assert (code, output) == (0, "hello")
    assert clean_engine.inspect_container(taker)["HostConfig"]["VolumesFrom"] == ["giver:ro"]
    assert reported == ([] if podman else ["/etc/app"])


def _members(chunks: Iterator[bytes]) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        return [member.name for member in tar]


def test_archive_names_and_extraction_differ(
    clean_engine: Engine, holder: str, podman: bool
) -> None:
    """GET archive of a directory: dockerd names members below the directory's name,
    Podman relative to it with a leading slash; PUT at ``/`` of a tar holding ``data/g``
    reaches the volume mounted at /data on dockerd, Podman writes it into the root file
    system beneath the mount. volplan's content operations (backup, restore, --migrate)
    refuse such archives before changing anything (content/volume_io.below_top)."""
    client = clean_engine.client
    whole, _ = client.get_archive(holder, "/data")
    one_file, _ = client.get_archive(holder, "/data/sub/f")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry = tarfile.TarInfo("data/g")
        entry.size = 2
        tar.addfile(entry, io.BytesIO(b"hi"))
    client.put_archive(holder, "/", buffer.getvalue())
    after, _ = client.get_archive(holder, "/data")

    if podman:
        assert _members(whole) == ["", "/sub", "/sub/f"]
        assert "/g" not in _members(after)
    else:
        assert _members(whole) == ["data", "data/sub", "data/sub/f"]
        assert "data/g" in _members(after)
    assert _members(one_file) == ["f"]


def test_archive_of_a_missing_path_is_404_and_put_into_one_differs(
    clean_engine: Engine, holder: str, podman: bool
) -> None:
    """A missing path is 404 on both (EngineNotFound); PUT into a missing directory is 404
    on dockerd and creates it on Podman. volplan writes only into paths it made."""
    client = clean_engine.client
    with pytest.raises(docker.errors.NotFound):
        client.get_archive(holder, "/absent")
    if podman:
        assert client.put_archive(holder, "/made-by-put", b"\0" * 1024)
    else:
        with pytest.raises(docker.errors.NotFound):
            client.put_archive(holder, "/made-by-put", b"\0" * 1024)


def test_podman_makes_a_new_info_id_per_call_so_volplan_names_it_by_its_root(
    clean_engine: Engine, podman: bool
) -> None:
    """A saved plan is tied to the engine's identity (engine/records.daemon_id)."""
    ids = {clean_engine.client.info()["ID"] for _ in range(2)}
    engine = DockerEngine.connect(clean_engine.host)
    named = {engine.info().daemon_id for _ in range(2)}
    engine.close()

    root = clean_engine.client.info()["DockerRootDir"]
    assert len(ids) == (2 if podman else 1)
    assert named == ({f"podman:{clean_engine.client.info()['Name']}:{root}"} if podman else ids)


def test_a_binds_selinux_relabel_shows_differently_in_mode(
    clean_engine: Engine, tmp_path_factory: pytest.TempPathFactory, podman: bool
) -> None:
    """Container create options: ``ro,Z`` reaches both engines; Podman reports ``Z``
    alone in ``Mounts[].Mode`` (volplan reads ``RW``, not ``Mode``)."""
    source = tmp_path_factory.mktemp("relabel")
    client = clean_engine.client
    host_config = client.create_host_config(network_mode="none", binds=[f"{source}:/e:ro,Z"])
    created = client.create_container("busybox:latest", ["true"], host_config=host_config)["Id"]

    (mount,) = clean_engine.inspect_container(created)["Mounts"]

    assert (mount["Mode"], mount["RW"]) == ("Z" if podman else "ro,Z", False)


def _owners(chunks: Iterator[bytes]) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        return {member.name: f"{member.uid}:{member.gid}" for member in tar}


@pytest.mark.parametrize("reader_user", ["", "1234"])
def test_podman_reports_every_archived_entry_as_owned_by_the_reading_containers_user(
    clean_engine: Engine, podman: bool, reader_user: str
) -> None:
    """GET archive: dockerd reports each entry's owner; Podman (libpod's copyToArchive
    chowns to the container's user) reports whoever the reading container runs as. No
    request can read a volume's owners through it, so volplan moves no volume content
    through Podman's archive endpoints (content/volume_io.below_top)."""
    code, _ = clean_engine.run_with_volumes(
        "mkdir /d/sub && echo hi > /d/sub/f && chown -R 999:998 /d && touch /d/rootfile",
        mounts=[docker.types.Mount("/d", "owned")],
    )
    client = clean_engine.client
    host_config = client.create_host_config(
        network_mode="none", mounts=[docker.types.Mount("/d", "owned", no_copy=True)]
    )
    reader = client.create_container(
        "busybox:latest", ["true"], host_config=host_config, user=reader_user or None
    )["Id"]

    whole, _ = client.get_archive(reader, "/d")
    owners = _owners(whole)

    assert code == 0
    if podman:
        everyone = f"{reader_user}:0" if reader_user else "0:0"
        assert owners == dict.fromkeys(["", "/rootfile", "/sub", "/sub/f"], everyone)
    else:
        assert owners == {"d": "999:998", "d/rootfile": "0:0", "d/sub": "999:998",
                          "d/sub/f": "999:998"}  # fmt: skip


def test_a_put_at_the_mount_path_lands_in_the_volume_on_both(
    clean_engine: Engine, holder: str, podman: bool
) -> None:
    """PUT archive at a volume's mount path, of a tar naming ``.`` (0700, 999:998) and
    ``a`` (owned by 5): both engines write ``a`` into the volume with its owner; dockerd
    leaves the mount point as it was, Podman gives it the owner and mode of ``.``. So
    Podman could be written to faithfully, but not read back (above). Read with ``stat``
    in a container, since Podman's archive reads cannot tell owners."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        top = tarfile.TarInfo(".")
        top.type, top.mode, top.uid, top.gid = tarfile.DIRTYPE, 0o700, 999, 998
        tar.addfile(top)
        entry = tarfile.TarInfo("a")
        entry.size, entry.uid = 1, 5
        tar.addfile(entry, io.BytesIO(b"A"))
    clean_engine.client.put_archive(holder, "/data", buffer.getvalue())

    code, output = clean_engine.run_with_volumes(
        "stat -c '%n %u:%g %a' /m /m/a", mounts=[docker.types.Mount("/m", "data")]
    )

    assert code == 0, output
    top_line = "/m 999:998 700" if podman else "/m 0:0 755"
    assert output.splitlines() == [top_line, "/m/a 5:0 644"]


@pytest.mark.parametrize(
    "command",
    [
        ["backup", "volume:data", "-o", "{file}"],
        ["restore", "container:holder", "{file}", "--force"],
    ],
    ids=["backup", "restore-force"],
)
def test_volume_content_commands_are_refused_on_podman_before_any_change(
    clean_engine: Engine, holder: str, run_cli: RunCli, tmp_path: Path, command: list[str]
) -> None:
    """backup, and restore even with --force (its file would otherwise land outside the
    volume while the command said it was restored); --migrate reads the same way: on
    Podman one clear error, no file written and the volume as it was; on dockerd the
    command's work."""
    file = tmp_path / "data.tar"
    restoring = command[0] == "restore"
    if restoring:
        with tarfile.open(file, "w") as tar:
            entry = tarfile.TarInfo("data/restored")
            entry.size = 2
            tar.addfile(entry, io.BytesIO(b"hi"))

    result = run_cli(*(part.format(file=file) for part in command))
    podman = clean_engine.kind == "podman"
    code, listing = clean_engine.run_with_volumes(
        "ls /data", mounts=[docker.types.Mount("/data", "data")]
    )

    if podman:
        assert result.exit_code == 1, result.stdout
        assert "archive names an entry '', relative to the directory (as Podman" in result.stderr
        assert "would lose file ownership" in result.stderr
        assert "nothing was changed" in result.stderr
        assert file.exists() == restoring
        assert (code, listing.split()) == (0, ["sub"])
    else:
        assert result.exit_code == 0, result.stderr
        assert file.stat().st_size > 0
        assert (code, listing.split()) == (0, ["restored", "sub"] if restoring else ["sub"])


def test_podman_stops_a_container_created_without_stop_timeout_at_once(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path, podman: bool
) -> None:
    """Created without ``StopTimeout``, a container has none on dockerd (a stop waits 10 s
    for it) and 0 on Podman (a stop without ``t`` kills it at once: a database would not
    shut down). volplan sends ``StopTimeout`` at create, the spec's or 10 (the engine's
    ENGINE_STOP_TIMEOUT), so its stops wait on both."""
    client = clean_engine.client
    host_config = client.create_host_config(network_mode="none")
    bare = client.create_container("busybox:latest", ["true"], host_config=host_config)["Id"]
    (tmp_path / "app.yaml").write_text(
        "version: 1\nproject: stop\ncontainers:\n  app:\n    image: busybox:latest\n"
        "    command: [sleep, '600']\n    network_mode: none\n"
    )

    applied = run_cli("apply", "--yes", str(tmp_path))

    assert applied.exit_code == 0, applied.stderr
    assert clean_engine.inspect_container(bare)["Config"].get("StopTimeout") == (
        0 if podman else None
    )
    assert clean_engine.inspect_container("app")["Config"]["StopTimeout"] == 10


def test_none_and_host_are_listed_as_networks_by_dockerd_only(
    clean_engine: Engine, podman: bool
) -> None:
    """Both engines take ``network_mode: none`` and ``host``; dockerd lists them as networks,
    Podman does not, so volplan does not look them up (live/networks.NETWORK_MODES)."""
    names = {network["Name"] for network in clean_engine.client.networks()}

    assert names & {"none", "host"} == (set() if podman else {"none", "host"})


def test_a_create_whose_name_is_taken_is_a_500_on_podman(
    clean_engine: Engine, podman: bool
) -> None:
    """dockerd answers 409, Podman 500 (its message ending ``that name is already in
    use``); volplan reads both as the conflict (engine/error_map), so an apply waits for a
    held lock on Podman too (test_lock_engine)."""
    client = clean_engine.client
    host_config = client.create_host_config(network_mode="none")
    client.create_container("busybox:latest", ["true"], host_config=host_config, name="taken")

    with pytest.raises(docker.errors.APIError) as caught:
        client.create_container("busybox:latest", ["true"], host_config=host_config, name="taken")

    assert caught.value.status_code == (500 if podman else 409)
    assert isinstance(mapped(caught.value, "creating container taken"), EngineConflict)


def test_podman_reports_its_defaults_in_ulimits_and_tmpfs(
    clean_engine: Engine, podman: bool
) -> None:
    """A container created with no ulimits and one tmpfs: dockerd reports them as given,
    Podman adds its defaults: ulimits (here scripts/podman.sh's containers.conf) under
    their RLIMIT_ names, and mount options to the tmpfs. volplan compares what it recorded,
    not these, so plans converge; but ``volplan export`` writes the ulimits out for every
    container, and the options test's inspect checks do not hold on Podman (NOT_ON_PODMAN)."""
    client = clean_engine.client
    host_config = client.create_host_config(network_mode="none", tmpfs={"/scratch": "size=1m"})
    created = client.create_container("busybox:latest", ["true"], host_config=host_config)["Id"]

    host = clean_engine.inspect_container(created)["HostConfig"]
    ulimits = [(u["Name"], u["Soft"], u["Hard"]) for u in host.get("Ulimits") or []]

    if podman:
        assert ulimits == [("RLIMIT_NOFILE", 1024, 1024), ("RLIMIT_NPROC", 32768, 32768)]
        assert host["Tmpfs"] == {"/scratch": "size=1m,rw,rprivate,nosuid,nodev,tmpcopyup"}
    else:
        assert ulimits == []
        assert host["Tmpfs"] == {"/scratch": "size=1m"}


def test_the_private_podman_runs_no_healthcheck(clean_engine: Engine, podman: bool) -> None:
    """Podman runs healthchecks from systemd timers, which a ``podman system service``
    started outside systemd (scripts/podman.sh) does not get: a container stays
    ``starting``, so ``depends_on: {condition: service_healthy}`` (test_depends_on_engine)
    would wait out its timeout there. dockerd runs them itself."""
    client = clean_engine.client
    host_config = client.create_host_config(network_mode="none")
    created = client.create_container(
        "busybox:latest",
        ["sleep", "600"],
        host_config=host_config,
        healthcheck={"Test": ["CMD", "true"], "Interval": 200_000_000, "StartPeriod": 0},
    )["Id"]
    client.start(created)

    status = "starting"
    for _ in range(30):
        status = clean_engine.inspect_container(created)["State"]["Health"]["Status"]
        if status != "starting":
            break
        time.sleep(0.1)
    client.remove_container(created, force=True)

    assert status == ("starting" if podman else "healthy")


MIGRATED = """\
version: 1
project: mig
volumes:
  data: {labels: {v: "REV"}}
containers:
  app:
    image: busybox:latest
    command: [sleep, "600"]
    network_mode: none
    stop_timeout: 1
    mounts: ["data:/data"]
"""


def test_apply_migrate_is_refused_on_podman_before_anything_is_stopped(
    clean_engine: Engine, run_cli: RunCli, tmp_path: Path, podman: bool
) -> None:
    """A volume change with --migrate: dockerd copies the content over and back; on Podman
    the plan is refused whole (plan/data_safety), since its copy would fail only after the
    container holding the volume was removed: the container keeps running, nothing is made."""
    spec = tmp_path / "mig.yaml"
    spec.write_text(MIGRATED.replace("REV", "1"))
    assert run_cli("apply", "--yes", str(tmp_path)).exit_code == 0
    assert clean_engine.exec_sh("app", "echo kept > /data/f") == (0, "")
    before = clean_engine.inspect_container("app")["Id"]
    spec.write_text(MIGRATED.replace("REV", "2"))

    result = run_cli("apply", "--yes", "--migrate", str(tmp_path))

    if podman:
        assert result.exit_code == 1, result.stdout
        assert "moves no volume content through Podman's archive endpoints" in result.stderr
        assert clean_engine.inspect_container("app")["Id"] == before
        assert clean_engine.inspect_volume("data")["Labels"]["v"] == "1"
        assert clean_engine.volume_names() == {"data"}
    else:
        assert result.exit_code == 0, result.stderr
        assert clean_engine.inspect_volume("data")["Labels"]["v"] == "2"
    assert clean_engine.exec_sh("app", "cat /data/f") == (0, "kept\n")
