"""The targets file: what it accepts, and one error at file:line:column for what it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.model import TlsFiles
from reconciler.spec.targets_cache import read_targets_cached
from reconciler.spec.targets_file import read_targets

GOOD = """\
version: 1
targets:
  edge-1:
    host: ssh://ops@edge-1.example
    labels: {role: edge}
    variables: {SITE: paris}
  prod:
    context: prod
    tls: {ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem}
"""


def targets_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    return path


def test_targets_are_read_in_order_with_tls_paths_next_to_the_file(tmp_path: Path) -> None:
    edge, prod = read_targets(targets_file(tmp_path, GOOD))

    assert (edge.name, edge.host, edge.context) == ("edge-1", "ssh://ops@edge-1.example", None)
    assert edge.labels == {"role": "edge"}
    assert edge.variables == {"SITE": "paris"}
    assert (edge.origin.line, edge.origin.column) == (4, 11)
    assert prod.endpoint == "context prod"
    certs = tmp_path / "certs"
    assert prod.tls == TlsFiles(f"{certs}/ca.pem", f"{certs}/cert.pem", f"{certs}/key.pem")
    assert read_targets(targets_file(tmp_path, GOOD), ("prod",)) == (prod,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\ntargets:\n  a1:\n    host: unix:///x.sock\n    lables: {}\n",
            "targets.yaml:5:5: error: targets.a1.lables: unknown key 'lables'; did you mean "
            "'labels'? [unknown-key]",
        ),
        (
            "version: 1\ntargets:\n  a1: {labels: {}}\n",
            "targets.yaml:3:3: error: targets.a1: give the engine as either host: (a DOCKER_HOST "
            "address) or context: [invalid-value]",
        ),
        (
            "version: 1\ntargets:\n  a1:\n    host: unix:///x.sock\n    tls: {cert: c.pem}\n",
            "targets.yaml:5:5: error: targets.a1.tls: give both cert and key (a client "
            "certificate and its key), or neither [invalid-value]",
        ),
        (
            "version: 1\ntargets: {}\n",
            "targets.yaml:2:1: error: targets: name at least one target [invalid-value]",
        ),
        (
            "version: 2\ntargets:\n  a1:\n    host: unix:///x.sock\n",
            "targets.yaml:1:10: error: version: Input should be 1 [invalid-value]",
        ),
    ],
)
def test_a_bad_targets_file_is_one_error_at_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SpecError) as caught:
        read_targets(targets_file(tmp_path, text).relative_to(tmp_path))

    assert [str(p) for p in caught.value.problems] == [expected]


def test_an_unknown_target_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        read_targets(targets_file(tmp_path, GOOD), ("edge-2",))

    assert "no target 'edge-2' here (--target); the file names edge-1, prod" in str(caught.value)


def test_unchanged_targets_come_from_the_cache_and_an_edit_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOLPLAN_NO_CACHE", raising=False)
    monkeypatch.setenv("VOLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    path = targets_file(tmp_path, GOOD)

    first = read_targets_cached(path)
    assert list((tmp_path / "cache").glob("targets-*.pickle"))
    monkeypatch.setattr("reconciler.spec.targets_file.read_targets", None)  # a hit reads nothing
    assert read_targets_cached(path, ("prod",)) == first[1:]
    monkeypatch.undo()

    monkeypatch.setenv("VOLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    path.write_text(GOOD.replace("role: edge", "role: core"))
    assert read_targets_cached(path)[0].labels == {"role": "core"}
    with pytest.raises(SpecError):
        read_targets_cached(path, ("edge-9",))
