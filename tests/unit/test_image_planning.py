"""Image-declared volumes and image identity, planned and applied on the fake engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler import labels
from reconciler.apply.applier import ApplyOptions, apply_plan, container_request
from reconciler.engine.fake import FakeEngine
from reconciler.errors import PlanError
from reconciler.live import image_cache
from reconciler.live.images import familiar, image_index, resolve
from reconciler.live.pulls import pull_images, pull_policies
from reconciler.model import ImageConfig, LiveImage, PullPolicy
from reconciler.pipeline import Planned, Specs, plan
from reconciler.plan.actions import CreateContainer, RecreateContainer, action_key
from specs import desired_from

PG = "postgres:17"
SPEC = """
version: 1
project: shop
containers:
  db:
    image: postgres:17
    labels: {rev: "1"}
"""


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache of image configs for each test, since fake image IDs repeat across tests."""
    monkeypatch.setenv("VOLPLAN_CACHE_DIR", str(tmp_path / "cache"))


def engine_with_images() -> FakeEngine:
    return FakeEngine(
        images={"busybox", PG, "mongo:7"},
        image_configs={
            PG: {"Volumes": {"/var/lib/postgresql/data": {}}, "StopSignal": "SIGINT"},
            "mongo:7": {"Volumes": {"/data/db": {}, "/data/configdb/": {}}},
        },
    )


def plan_text(text: str, engine: FakeEngine) -> Planned:
    return plan(Specs((), desired_from(text)), engine)


def converge(text: str, engine: FakeEngine) -> Planned:
    planned = plan_text(text, engine)
    apply_plan(planned.plan, engine, options=ApplyOptions())
    return planned


def mounts_of(engine: FakeEngine, name: str) -> dict[str, str]:
    (container,) = (c for c in engine.containers.values() if c["Names"] == [f"/{name}"])
    return {m["Destination"]: m["Name"] for m in container["Mounts"]}


def test_an_image_volume_is_made_by_volplan_under_its_stable_name() -> None:
    engine = engine_with_images()

    (create,) = converge(SPEC, engine).plan.actions

    assert isinstance(create, CreateContainer)
    (volume,) = create.anonymous
    stable = labels.anonymous_volume_name("shop", "db", "/var/lib/postgresql/data")
    assert (volume.target, volume.name, volume.from_image) == (
        "/var/lib/postgresql/data",
        stable,
        True,
    )
    assert mounts_of(engine, "db") == {"/var/lib/postgresql/data": stable}
    assert engine.volumes[stable]["Labels"][labels.IMAGE_VOLUME] == "true"
    assert plan_text(SPEC, engine).plan.actions == ()


def test_a_recreate_hands_the_image_volume_over() -> None:
    engine = engine_with_images()
    converge(SPEC, engine)
    before = mounts_of(engine, "db")

    (recreate,) = converge(SPEC.replace('rev: "1"', 'rev: "2"'), engine).plan.actions

    assert isinstance(recreate, RecreateContainer)
    assert [v.exists for v in recreate.anonymous] == [True]
    assert mounts_of(engine, "db") == before
    assert len(engine.volumes) == 1


def test_a_path_the_spec_mounts_gets_no_image_volume() -> None:
    engine = engine_with_images()
    text = SPEC.replace(
        "    labels", "    mounts: ['pgdata:/var/lib/postgresql/data']\n    labels"
    ).replace("containers:", "volumes:\n  pgdata: {}\ncontainers:")

    converge(text, engine)

    assert mounts_of(engine, "db") == {"/var/lib/postgresql/data": "pgdata"}
    assert set(engine.volumes) == {"pgdata"}


def test_volumes_from_passes_image_volumes_on_and_takes_their_paths() -> None:
    engine = engine_with_images()
    engine.image_configs["busybox"] = {"Volumes": {"/data/db": {}}}
    text = """
    version: 1
    project: shop
    containers:
      store: {image: "mongo:7", state: created}
      app: {image: busybox, volumes_from: [store]}
    """

    converge(text, engine)

    store = mounts_of(engine, "store")
    assert set(store) == {"/data/db", "/data/configdb"}
    assert mounts_of(engine, "app") == store  # not a second volume of app's own at /data/db
    assert plan_text(text, engine).plan.actions == ()


def test_an_engine_made_volume_is_kept_and_not_drift() -> None:
    """A container an older volplan made, which mounted nothing at the image's path."""
    engine = engine_with_images()
    engine.create_container(container_request(desired_from(SPEC).containers["db"], ()))
    engine_made = mounts_of(engine, "db")["/var/lib/postgresql/data"]
    assert engine_made != labels.anonymous_volume_name("shop", "db", "/var/lib/postgresql/data")

    assert [str(action_key(a)) for a in plan_text(SPEC, engine).plan.actions] == [
        "container.db:start"
    ]
    converge(SPEC.replace('rev: "1"', 'rev: "2"'), engine)

    assert mounts_of(engine, "db") == {"/var/lib/postgresql/data": engine_made}


def test_the_image_behind_a_tag_moving_recreates_the_container() -> None:
    engine = engine_with_images()
    converge(SPEC, engine)
    old = engine.image_id(PG)
    engine.image_ids[PG] = "sha256:" + "b" * 64

    (recreate,) = plan_text(SPEC, engine).plan.actions

    assert str(action_key(recreate)) == "container.db:recreate"
    assert [(c.path, c.before, c.after) for c in recreate.changes] == [
        (("image",), old, f"sha256:{'b' * 64} ({PG})")
    ]


@pytest.mark.parametrize(
    ("reference", "listed"),
    [
        ("busybox", "busybox:latest"),
        ("busybox:latest", "busybox:latest"),
        ("docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "busybox:latest"),
        ("docker.io/bitnami/redis", "bitnami/redis:latest"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("localhost:5000/team/app:2", "localhost:5000/team/app:2"),
        ("redis@sha256:" + "a" * 64, "redis@sha256:" + "a" * 64),
        ("redis:7@sha256:" + "a" * 64, "redis@sha256:" + "a" * 64),
    ],
)
def test_references_are_compared_as_the_engine_lists_them(reference: str, listed: str) -> None:
    assert familiar(reference) == listed


def test_a_reference_resolves_by_tag_digest_or_id() -> None:
    image = LiveImage(
        "sha256:" + "c" * 64, repo_tags=("redis:7",), repo_digests=("redis@sha256:" + "d" * 64,)
    )
    images = {image.id: image}
    index = image_index(images)

    assert resolve("docker.io/library/redis:7", images, index) == image.id
    assert resolve("redis@sha256:" + "d" * 64, images, index) == image.id
    assert resolve("redis@sha256:" + "e" * 64, images, index) is None
    assert resolve("c" * 12, images, index) == image.id
    assert resolve("redis:8", images, index) is None


def test_image_configs_are_cached_by_id_in_a_private_folder(tmp_path: Path) -> None:
    config = ImageConfig("sha256:" + "f" * 64, volumes=("/data",), stop_signal="SIGINT")

    image_cache.store(config)

    assert image_cache.load(config.id) == config
    assert image_cache.load("sha256:" + "0" * 64) is None
    os.chmod(tmp_path / "cache" / image_cache.SUBFOLDER, 0o777)
    assert image_cache.load(config.id) is None  # writable by others: not trusted


def test_a_converged_plan_inspects_no_image_once_cached() -> None:
    engine = engine_with_images()
    converge(SPEC, engine)
    assert [c for c in engine.calls if c[0] == "inspect_image"] == [
        ("inspect_image", engine.image_id(PG))
    ]
    engine.calls.clear()

    plan_text(SPEC, engine)

    assert [c for c in engine.calls if c[0] == "inspect_image"] == []


PULLS = """
version: 1
project: shop
containers:
  db: {image: "postgres:17", pull: always}
  replica: {image: "postgres:17", pull: never}
  web: {image: "nginx:1"}
  tool: {image: "busybox", pull: never}
"""


def test_the_most_eager_policy_of_an_images_users_wins_and_the_override_beats_all() -> None:
    desired = desired_from(PULLS)

    assert pull_policies(desired) == {
        "busybox": PullPolicy.NEVER,
        "nginx:1": PullPolicy.MISSING,
        "postgres:17": PullPolicy.ALWAYS,
    }
    assert set(pull_policies(desired, PullPolicy.NEVER).values()) == {PullPolicy.NEVER}


def test_a_plan_says_what_apply_would_pull_and_pulls_nothing() -> None:
    engine = engine_with_images()

    planned = plan_text(PULLS, engine)

    assert [(str(n.address), n.message) for n in planned.plan.notes] == [
        ("container.db", "apply pulls image postgres:17 first (pull: always)"),
        ("container.replica", "apply pulls image postgres:17 first (pull: always)"),
        ("container.web", "image nginx:1 is not on the engine; apply pulls it"),
    ]
    assert [c for c in engine.calls if c[0] == "pull_image"] == []


def test_pulls_follow_the_policies_and_never_refuses_a_missing_image() -> None:
    engine = engine_with_images()
    engine.pullable = {PG, "nginx:1"}
    seen: list[tuple[str, str]] = []

    pull_images(
        engine, desired_from(PULLS), None, lambda image, status: seen.append((image, status))
    )

    assert [c for c in engine.calls if c[0] == "pull_image"] == [
        ("pull_image", "nginx:1"),
        ("pull_image", PG),
    ]
    assert seen == [("nginx:1", "Downloaded newer image"), (PG, "Downloaded newer image")]
    engine.images.discard("busybox")
    with pytest.raises(PlanError, match="image busybox is not on the engine, and pull: never"):
        pull_images(engine, desired_from(PULLS), None, lambda image, status: None)


def test_a_volume_a_recreate_lets_go_of_is_kept_and_said() -> None:
    engine = engine_with_images()
    converge(SPEC, engine)
    image_volume = mounts_of(engine, "db")["/var/lib/postgresql/data"]
    named = SPEC.replace(
        "    labels", "    mounts: ['pgdata:/var/lib/postgresql/data']\n    labels"
    ).replace("containers:", "volumes:\n  pgdata: {}\ncontainers:")

    planned = converge(named, engine)

    assert [(str(n.address), n.message) for n in planned.plan.notes] == [
        (
            f"volume.{image_volume}",
            "held db:/var/lib/postgresql/data and is mounted by nothing after the recreate; "
            f"it is kept, with its data (`docker volume rm {image_volume}` once it is not "
            "needed)",
        )
    ]
    assert image_volume in engine.volumes
    assert plan_text(named, engine).plan.notes == ()
