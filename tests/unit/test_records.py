"""``engine/records.py`` turns Docker 20.10's JSON into typed records, filling in defaults.

The answers below are trimmed from what a real engine sent; the integration tests parse
whole real answers through the same functions.
"""

from __future__ import annotations

from reconciler.engine import records
from reconciler.engine.fake import FakeEngine
from reconciler.model import LiveMount, LiveVolume


def test_a_volume_gets_the_engines_defaults_for_what_it_leaves_null() -> None:
    answer = {"Volumes": [{"Name": "data", "Driver": "", "Labels": None, "Options": None}]}
    assert records.parse_volume_list(answer) == [LiveVolume("data", "local", {}, {}, "", "local")]
    assert records.parse_volume_list({"Volumes": None, "Warnings": None}) == []


def test_a_listed_container_loses_its_slash_and_its_mounts_are_sorted_and_normalised() -> None:
    (container,) = records.parse_container_list(
        [
            {
                "Id": "c0ffee",
                "Names": ["/web"],
                "Image": "busybox",
                "State": "running",
                "Labels": None,
                "Mounts": [
                    {"Type": "volume", "Name": "logs", "Destination": "/var/log/", "RW": False},
                    {"Type": "bind", "Source": "/srv", "Destination": "/data", "RW": True},
                ],
            }
        ]
    )
    assert (container.name, container.running, container.labels) == ("web", True, {})
    assert container.mounts == (
        LiveMount("/data", "bind", None, "/srv", read_only=False, propagation=""),
        LiveMount("/var/log", "volume", "logs", "", read_only=True, propagation=""),
    )


def test_inspect_gives_the_labels_and_the_volumes_from_the_list_lacks() -> None:
    inspected = records.parse_container_inspect(
        {
            "Id": "c0ffee",
            "Name": "/app",
            "Config": {"Labels": {"team": "db"}},
            "HostConfig": {"VolumesFrom": ["store:ro"]},
        }
    )
    assert inspected == records.ContainerInspect("c0ffee", "app", {"team": "db"}, ("store:ro",))
    bare = records.parse_container_inspect({"Id": "c0ffee", "Config": {"Labels": None}})
    assert (bare.labels, bare.volumes_from) == ({}, ())


def test_disk_usage_keeps_only_the_sizes_the_engine_could_measure() -> None:
    usage = records.parse_disk_usage(
        {
            "Volumes": [
                {"Name": "big", "UsageData": {"Size": 4096, "RefCount": 1}},
                {"Name": "unknown", "UsageData": {"Size": -1, "RefCount": 0}},
                {"Name": "bare"},
            ]
        }
    )
    assert usage.volume_sizes == {"big": 4096}
    assert records.parse_disk_usage({"Volumes": None}).volume_sizes == {}


def test_engine_info_is_local_only_on_a_socket() -> None:
    raw = {"ID": "ABCD", "Name": "host", "ServerVersion": "20.10.24", "NCPU": 2}
    local = records.parse_info(raw, endpoint="unix:///run/docker.sock", api_version="1.41")
    remote = records.parse_info(raw, endpoint="tcp://127.0.0.1:2375", api_version="1.41")
    assert (local.daemon_id, local.cpus, local.is_local, remote.is_local) == (
        "ABCD",
        2,
        True,
        False,
    )


def test_the_fake_engine_answers_through_the_same_parser() -> None:
    engine = FakeEngine()
    engine.volumes["data"] = {"Name": "data", "Driver": None}
    assert engine.list_volumes() == [LiveVolume("data", "local", {}, {}, "", "local")]
