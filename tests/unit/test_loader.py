"""The loader: valid specs become the desired state; each invalid one gives exact errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.model import DesiredState, MountKind, RunState
from reconciler.pipeline import load
from reconciler.spec import cache
from reconciler.spec.files import SpecSource
from specs import FOLDER, sources_from

Load = Callable[[Sequence[SpecSource]], DesiredState]


@pytest.fixture(params=["cache-off", "cache-on"])
def load_sources(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Load:
    """``pipeline.load`` with the spec cache off, or on: then what a later run gets from the
    cache must equal what was validated."""
    cached = request.param == "cache-on"
    if cached:
        monkeypatch.delenv("VOLPLAN_NO_CACHE", raising=False)
        monkeypatch.setenv("VOLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    else:
        monkeypatch.setenv("VOLPLAN_NO_CACHE", "1")

    def load_them(sources: Sequence[SpecSource]) -> DesiredState:
        desired = load(sources).desired
        if cached:
            assert cache.lookup(sources) == desired
        return desired

    return load_them


@pytest.fixture
def desired_from(load_sources: Load) -> Callable[..., DesiredState]:
    return lambda *texts: load_sources(sources_from(*texts))


WEBAPP = """
version: 1
project: webapp
volumes:
  webapp-data:
    labels: {team: web}
  legacy-db:
    external: true
containers:
  dbstore:
    image: busybox
    command: /bin/true
    state: created
    mounts: [/dbdata]
  web:
    image: busybox
    command: [sleep, "3600"]
    environment: [MODE=prod]
    mounts:
      - webapp-data:/webapp
      - legacy-db:/legacy:ro,nocopy
      - /src/webapp:/opt/webapp:ro
      - ./static/:/static:ro
      - {type: bind, source: ../cfg, target: /cfg/, read_only: true, propagation: rslave}
    volumes_from: ["dbstore:ro"]
"""


def test_the_classic_topology_loads_normalised(desired_from: Callable[..., DesiredState]) -> None:
    desired = desired_from(WEBAPP)

    assert desired.projects == ("webapp",)
    assert desired.volumes["webapp-data"].driver == "local"
    assert desired.volumes["legacy-db"].external
    dbstore, web = desired.containers["dbstore"], desired.containers["web"]
    assert dbstore.command == ("/bin/true",)
    assert dbstore.state is RunState.CREATED
    assert [(m.kind, m.target) for m in dbstore.mounts] == [(MountKind.ANONYMOUS, "/dbdata")]
    assert web.environment == {"MODE": "prod"}
    mounts = {m.target: m for m in web.mounts}
    assert mounts["/webapp"].kind is MountKind.VOLUME
    assert mounts["/legacy"].read_only
    assert mounts["/legacy"].nocopy
    assert mounts["/static"].source == f"{FOLDER}/static"
    assert mounts["/cfg"].source == "/srv/cfg"
    assert mounts["/cfg"].propagation == "rslave"
    assert [(vf.container, vf.read_only) for vf in web.volumes_from] == [("dbstore", True)]


def test_positions_are_kept_for_plan_lines(desired_from: Callable[..., DesiredState]) -> None:
    web = desired_from(WEBAPP).containers["web"]

    assert str(web.origin) == "spec0.yaml:15:3"
    assert web.origin_of("mounts[/static].read_only").line == 23
    assert web.origin_of("image").line == 16


def test_several_files_and_documents_merge(desired_from: Callable[..., DesiredState]) -> None:
    desired = desired_from(
        "version: 1\nproject: one\nvolumes: {v1: {}}\n---\nversion: 1\nproject: two\n"
        "volumes: {v2: {}}\n",
        "version: 1\nproject: one\ncontainers: {c1: {image: busybox, mounts: ['v2:/x']}}\n",
    )

    assert set(desired.volumes) == {"v1", "v2"}
    assert desired.projects == ("one", "two")


INVALID = {
    "unknown key with suggestion": (
        "version: 1\nproject: web\ncontainers:\n  web:\n    image: busybox\n    imgae: x\n",
        [
            "spec0.yaml:6:5: error: containers.web.imgae: unknown key 'imgae'; did you mean "
            "'image'? [unknown-key]"
        ],
    ),
    "missing key points at its parent": (
        "version: 1\nproject: web\ncontainers:\n  web: {command: [sh]}\n",
        [
            "spec0.yaml:4:3: error: containers.web.image: required key 'image' is missing "
            "[missing-key]"
        ],
    ),
    "relative container path": (
        "version: 1\nproject: web\ncontainers:\n  web: {image: bb, mounts: ['data:data']}\n",
        [
            "spec0.yaml:4:29: error: containers.web.mounts[0]: container path 'data' must be "
            "absolute [invalid-value]"
        ],
    ),
    "undeclared volume with suggestion": (
        "version: 1\nproject: web\nvolumes: {webdata: {}}\ncontainers:\n"
        "  web: {image: bb, mounts: ['web-data:/data']}\n",
        [
            "spec0.yaml:5:29: error: containers.web.mounts[/data]: volume 'web-data' is not "
            "declared under 'volumes:' (declare it, or mark it external: true); did you mean "
            "'webdata'? [undeclared-volume]"
        ],
    ),
    "unknown volumes_from source": (
        "version: 1\nproject: web\ncontainers:\n  dbstore: {image: bb}\n"
        "  web: {image: bb, volumes_from: [dbstor]}\n",
        [
            "spec0.yaml:5:35: error: containers.web.volumes_from[dbstor]: container 'dbstor' is "
            "not declared under 'containers:'; did you mean 'dbstore'? [undeclared-container]"
        ],
    ),
    "volumes_from cycle": (
        "version: 1\nproject: web\ncontainers:\n  aa: {image: bb, volumes_from: [bb]}\n"
        "  bb: {image: bb, volumes_from: ['aa:ro']}\n",
        [
            "spec0.yaml:4:19: error: containers.aa.volumes_from: container 'aa' takes volumes "
            "from itself through a volumes_from cycle [volumes-from-cycle]",
            "spec0.yaml:5:19: error: containers.bb.volumes_from: container 'bb' takes volumes "
            "from itself through a volumes_from cycle [volumes-from-cycle]",
        ],
    ),
    "inherited target clash": (
        "version: 1\nproject: web\ncontainers:\n  dbstore: {image: bb, mounts: [/data]}\n"
        "  web: {image: bb, mounts: ['/srv:/data'], volumes_from: [dbstore]}\n",
        [
            "spec0.yaml:5:29: error: containers.web.mounts[/data]: 2 mounts at /data: "
            "mounts[0] (/srv:/data) and volumes_from dbstore [duplicate-target]"
        ],
    ),
    "two own mounts at one target name both": (
        "version: 1\nproject: web\nvolumes: {aa: {}, bb: {}}\ncontainers:\n"
        "  web: {image: bb, mounts: ['aa:/data2', 'bb:/data2']}\n",
        [
            "spec0.yaml:5:42: error: containers.web.mounts[/data2]: 2 mounts at /data2: "
            "mounts[0] (aa:/data2) and mounts[1] (bb:/data2) [duplicate-target]"
        ],
    ),
    "schema and reference problems in one run": (
        "version: 1\nproject: web\nvolumes: {data: {}, bad: {driver: 7}}\ncontainers:\n"
        "  app: {image: bb, bogus: 1, mounts: ['nope:/a']}\n"
        "  web: {image: bb, mounts: ['nada:/x', 'bad:/y'], volumes_from: [app, ghost]}\n",
        [
            "spec0.yaml:3:35: error: volumes.bad.driver: Input should be a valid string, got 7 "
            "(quote it in YAML) [wrong-type]",
            "spec0.yaml:5:20: error: containers.app.bogus: unknown key 'bogus' [unknown-key]",
            "spec0.yaml:6:29: error: containers.web.mounts[/x]: volume 'nada' is not declared "
            "under 'volumes:' (declare it, or mark it external: true) [undeclared-volume]",
            "spec0.yaml:6:71: error: containers.web.volumes_from[ghost]: container 'ghost' is "
            "not declared under 'containers:' [undeclared-container]",
        ],
    ),
    "a restart policy that is not one lists the valid ones": (
        "version: 1\nproject: web\ncontainers:\n  web: {image: bb, restart: sometimes}\n",
        [
            "spec0.yaml:4:29: error: containers.web.restart: 'sometimes' is not a restart "
            "policy: use no, always, unless-stopped, on-failure or on-failure:N (at most N "
            "restarts), as for docker run --restart [invalid-value]"
        ],
    ),
    "a flow-style mount with a colon asks for quotes": (
        "version: 1\nproject: web\nvolumes: {data: {}}\ncontainers:\n"
        "  web:\n    image: bb\n    mounts: [data:/data]\n",
        [
            "spec0.yaml:7:18: error: invalid YAML: while scanning a plain scalar found "
            "unexpected ':'; inside [...] or {...} an item holding \":\" must be quoted, e.g. "
            'mounts: ["data:/data"], or written as a "- data:/data" list [yaml-syntax]'
        ],
    ),
    "a target of / after normalisation": (
        "version: 1\nproject: web\ncontainers:\n  web:\n    image: bb\n"
        "    mounts: ['/', 'v1:/..:ro', {source: /srv, target: //}]\nvolumes: {v1: {}}\n",
        [
            f"spec0.yaml:6:{column}: error: containers.web.{path}: container path "
            f"{target!r} is '/'; nothing can be mounted over it [invalid-value]"
            for path, column, target in (
                ("mounts[0]", 14, "/"),
                ("mounts[1]", 19, "/.."),
                ("mounts[2].target", 55, "//"),
            )
        ],
    ),
    "mode flags in the wrong place": (
        "version: 1\nproject: web\nvolumes: {v1: {}}\ncontainers:\n  web:\n    image: bb\n"
        "    mounts: ['v1:/a:rshared', '/x:/b:nocopy', 'v1:/c:ro,rw', 'v1:/d:zz']\n",
        [
            "spec0.yaml:7:14: error: containers.web.mounts[0]: propagation flag 'rshared' applies "
            "to bind mounts only [invalid-value]",
            "spec0.yaml:7:31: error: containers.web.mounts[1]: flag 'nocopy' applies to volumes "
            "only [invalid-value]",
            "spec0.yaml:7:47: error: containers.web.mounts[2]: flag 'rw' conflicts with an "
            "earlier flag [invalid-value]",
            "spec0.yaml:7:62: error: containers.web.mounts[3]: unknown mount flag 'zz' (known: ro, "
            "rw, z, Z, nocopy, private, rprivate, shared, rshared, slave, rslave) [invalid-value]",
        ],
    ),
    "bad names": (
        "version: 1\nproject: web\nvolumes: {x: {}, -bad: {}}\n",
        [
            "spec0.yaml:3:11: error: volumes.x: 'x' is not a valid name: it must start with a "
            "letter or digit and hold only letters, digits, '_', '.' and '-' (at least 2 "
            "characters) [invalid-name]",
            "spec0.yaml:3:18: error: volumes.-bad: '-bad' is not a valid name: it must start with "
            "a letter or digit and hold only letters, digits, '_', '.' and '-' (at least 2 "
            "characters) [invalid-name]",
        ],
    ),
    "reserved label keys": (
        "version: 1\nproject: web\nvolumes:\n  v1: {labels: {io.volplan.project: other}}\n",
        [
            "spec0.yaml:4:8: error: volumes.v1.labels: label keys starting with 'io.volplan.' "
            "are reserved for volplan's ownership records: io.volplan.project [invalid-value]"
        ],
    ),
    "unquoted number where a string is needed": (
        "version: 1\nproject: web\nvolumes:\n  v1: {labels: {tier: 1}}\n",
        [
            "spec0.yaml:4:23: error: volumes.v1.labels.tier: Input should be a valid string, got "
            "1 (quote it in YAML) [wrong-type]"
        ],
    ),
    "duplicate key": (
        "version: 1\nproject: web\nproject: other\n",
        [
            "spec0.yaml:3:1: error: duplicate key 'project' (first defined at spec0.yaml:2:1) "
            "[duplicate-key]"
        ],
    ),
    "aliases": (
        "version: 1\nproject: &p web\ncontainers:\n  web: {image: *p}\n",
        ["spec0.yaml:2:10: error: anchors and aliases are not allowed [yaml-alias]"],
    ),
    "object tags": (
        "version: 1\nproject: !!python/object/apply:os.system [id]\n",
        [
            "spec0.yaml:2:10: error: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not "
            "allowed: only YAML's standard types are [yaml-tag]"
        ],
    ),
    "YAML syntax": (
        "version: 1\nproject: [web\n",
        [
            "spec0.yaml:3:1: error: invalid YAML: while parsing a flow sequence did not find "
            "expected ',' or ']' [yaml-syntax]"
        ],
    ),
    "not a mapping": (
        "- version\n- project\n",
        ["spec0.yaml:1:1: error: expected a mapping, got list [wrong-type]"],
    ),
    "external volume with config": (
        "version: 1\nproject: web\nvolumes:\n  v1: {external: true, driver: nfs}\n",
        [
            "spec0.yaml:4:3: error: volumes.v1: an external volume is never created by volplan, "
            "so driver, driver_opts and labels do not apply to it [invalid-value]"
        ],
    ),
}


@pytest.mark.parametrize("case", INVALID, ids=list(INVALID))
def test_invalid_specs_give_exact_errors(
    case: str, desired_from: Callable[..., DesiredState]
) -> None:
    text, expected = INVALID[case]

    with pytest.raises(SpecError) as caught:
        desired_from(text)

    assert [str(p) for p in caught.value.problems] == expected


def test_a_resource_defined_twice_names_both_places(
    desired_from: Callable[..., DesiredState],
) -> None:
    text = "version: 1\nproject: web\nvolumes: {v1: {}}\n"

    with pytest.raises(SpecError) as caught:
        desired_from(text, text)

    assert [str(p) for p in caught.value.problems] == [
        "spec1.yaml:3:11: error: volumes.v1: volume 'v1' is defined twice (first at "
        "spec0.yaml:3:11) [duplicate-definition]"
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"version: 1\n\xff\xfe", "spec0.yaml:2:1: error: file is not valid UTF-8 [encoding]"),
        (
            b"\x00\x01binary",
            "spec0.yaml:1:1: error: file holds NUL bytes: not a YAML text file [binary-file]",
        ),
    ],
)
def test_undecodable_files_are_refused(raw: bytes, expected: str, load_sources: Load) -> None:
    with pytest.raises(SpecError) as caught:
        load_sources([SpecSource("spec0.yaml", FOLDER, raw)])

    assert [str(p) for p in caught.value.problems] == [expected]
