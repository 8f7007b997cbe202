"""The loader: valid specs become the desired state; each invalid one gives exact errors."""

from __future__ import annotations

import pytest

from reconciler.errors import SpecError
from reconciler.model import MountKind, RunState
from reconciler.spec.files import SpecSource
from reconciler.spec.loader import build_desired_state
from specs import FOLDER, desired_from

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


def test_the_classic_topology_loads_normalised() -> None:
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


def test_positions_are_kept_for_plan_lines() -> None:
    web = desired_from(WEBAPP).containers["web"]

    assert str(web.origin) == "spec0.yaml:15:3"
    assert web.origin_of("mounts[/static].read_only").line == 23
    assert web.origin_of("image").line == 16


def test_several_files_and_documents_merge() -> None:
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
            "spec0.yaml:5:29: error: containers.web.mounts[/data]: two mounts at /data: its own "
            "mount /data and volumes_from dbstore [duplicate-target]"
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
def test_invalid_specs_give_exact_errors(case: str) -> None:
    text, expected = INVALID[case]

    with pytest.raises(SpecError) as caught:
        desired_from(text)

    assert [str(p) for p in caught.value.problems] == expected


def test_a_resource_defined_twice_names_both_places() -> None:
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
def test_undecodable_files_are_refused(raw: bytes, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        build_desired_state([SpecSource("spec0.yaml", FOLDER, raw)])

    assert [str(p) for p in caught.value.problems] == [expected]
