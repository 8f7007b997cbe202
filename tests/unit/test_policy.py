"""The host-path policy, pure: every denied path refused, where and why; policy files load."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import RefusedError, SpecError
from reconciler.policy.file import read_policy
from reconciler.policy.hostpaths import PathPattern
from reconciler.policy.rules import DEFAULT_POLICY, Policy, Rule, check_policy
from reconciler.policy.selection import load_policy
from reconciler.spec.mount_syntax import normalise_host_path
from reconciler.spec.system_paths import DEFAULT_DENY
from specs import desired_from

HEAD = "version: 1\nproject: web\n"


def bind_spec(source: str, flags: str = "ro") -> str:
    return f"{HEAD}containers:\n  web:\n    image: bb\n    mounts: ['{source}:/host:{flags}']\n"


def violations(
    text: str, policy: Policy = DEFAULT_POLICY, links: dict[str, str] | None = None
) -> list[str]:
    resolve = None if links is None else (lambda path: fake_realpath(path, links))
    return [str(p) for p in check_policy(desired_from(text), policy, resolve)]


def fake_realpath(path: str, links: dict[str, str]) -> str:
    """realpath over a host whose only symlinks are ``links``."""
    for link, target in links.items():
        if path == link or path.startswith(link + "/"):
            return normalise_host_path(target + path[len(link) :])
    return path


@pytest.mark.parametrize(
    "source",
    [
        *(p.replace("*", "alice") for p in DEFAULT_DENY),
        "/etc/nginx/nginx.conf",
        "/root/.ssh/authorized_keys",
        "/proc/1/root",
        "/var/lib/docker/volumes/x/_data",
    ],
)
def test_each_denied_path_and_what_lies_under_it_is_refused(source: str) -> None:
    (problem,) = violations(bind_spec(source))

    assert problem.startswith(
        f"spec0.yaml:6:14: error: containers.web.mounts[/host]: bind source {source} "
    )
    assert problem.endswith("denied by the built-in policy [host-path-denied]")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/", "bind source / would expose /etc, denied by the built-in policy"),
        ("/var", "bind source /var would expose /var/lib/docker, denied by the built-in policy"),
        ("/var/run", "bind source /var/run would expose /var/run/docker.sock, denied by"),
        ("/home/bob", "bind source /home/bob would expose /home/*/.ssh, denied by"),
        ("/srv/app/../../etc", "bind source /etc is denied by the built-in policy"),
        ("//etc//", "bind source /etc is denied by the built-in policy"),
        ("/./usr/./bin/", "bind source /usr/bin lies under /usr, denied by"),
        ("../../../../etc/shadow", "bind source /etc/shadow lies under /etc, denied by"),
        ("/home/alice/.ssh", "bind source /home/alice/.ssh matches /home/*/.ssh, denied by"),
    ],
)
def test_ancestors_dots_and_slashes_do_not_slip_through(source: str, message: str) -> None:
    (problem,) = violations(bind_spec(source))

    assert message in problem


@pytest.mark.parametrize(
    "source", ["/srv/data", "/etcetera", "/home/bob/project", "/tmp", "./data"]
)
def test_ordinary_paths_pass(source: str) -> None:
    assert violations(bind_spec(source, "rw")) == []


def test_symlinks_are_followed_against_resolved_rules() -> None:
    links = {"/srv/link": "/etc", "/var/run": "/run", "/data/docker": "/data/docker"}
    text = (
        f"{HEAD}containers:\n  web:\n    image: bb\n    mounts:\n"
        "      - /srv/link/ssl:/a:ro\n      - /srv/other:/b:ro\n"
    )

    assert violations(text, links=links) == [
        "spec0.yaml:7:9: error: containers.web.mounts[/a]: bind source /srv/link/ssl resolves to "
        "/etc/ssl on this host, which lies under /etc, denied by the built-in policy "
        "[host-path-denied]"
    ]
    relocated = {"/var/lib/docker": "/data/docker"}
    (problem,) = violations(bind_spec("/data/docker/volumes"), links=relocated)
    assert "lies under /data/docker, denied by the built-in policy" in problem


def test_hidden_binds_count_too() -> None:
    text = (
        f"{HEAD}volumes:\n"
        "  hostetc: {driver_opts: {type: none, o: bind, device: /etc}}\n"
        "  relative: {driver_opts: {o: 'rbind,ro', device: var/lib/docker}}\n"
        "  disk: {driver_opts: {type: ext4, device: /dev/sda1}}\n"
        "  tmp: {driver_opts: {type: tmpfs, device: tmpfs}}\n"
        "  share: {driver_opts: {type: cifs, device: //nas/share}}\n"
        "containers:\n"
        "  holder: {image: bb, mounts: ['/etc/ssl:/ssl:ro']}\n"
        "  middle: {image: bb, volumes_from: [holder]}\n"
        "  last: {image: bb, volumes_from: ['middle:ro']}\n"
    )

    problems = violations(text)

    assert [p.split(": error: ")[1] for p in problems] == [
        "volumes.hostetc.driver_opts.device: driver_opts device /etc is denied by the built-in "
        "policy [host-path-denied]",
        "volumes.relative.driver_opts.device: driver_opts device /var/lib/docker is denied by the "
        "built-in policy [host-path-denied]",
        "volumes.disk.driver_opts.device: driver_opts device /dev/sda1 lies under /dev, denied by "
        "the built-in policy [host-path-denied]",
        "containers.holder.mounts[/ssl]: bind source /etc/ssl lies under /etc, denied by the "
        "built-in policy [host-path-denied]",
        "containers.middle.volumes_from[holder]: bind source /etc/ssl (at /ssl through "
        "volumes_from holder) lies under /etc, denied by the built-in policy [host-path-denied]",
        "containers.last.volumes_from[middle]: bind source /etc/ssl (at /ssl through volumes_from "
        "middle -> holder) lies under /etc, denied by the built-in policy [host-path-denied]",
    ]


def test_every_violation_is_reported_with_its_position() -> None:
    text = (
        f"{HEAD}volumes:\n  plugin: {{driver: flocker}}\n"
        "  odd: {driver_opts: {mountflags: x}}\ncontainers:\n  web:\n    image: bb\n"
        "    mounts: ['/etc:/a', '/proc:/b', '/srv:/c']\n"
    )

    assert violations(text) == [
        "spec0.yaml:4:3: error: volumes.plugin.driver: volume driver 'flocker' is not allowed by "
        "the built-in policy (allowed: local) [volume-driver-not-allowed]",
        "spec0.yaml:5:3: error: volumes.odd.driver_opts.mountflags: driver option 'mountflags' is "
        "not allowed for driver 'local' by the built-in policy (allowed: device, o, type) "
        "[driver-option-not-allowed]",
        "spec0.yaml:9:14: error: containers.web.mounts[/a]: bind source /etc is denied by the "
        "built-in policy [host-path-denied]",
        "spec0.yaml:9:25: error: containers.web.mounts[/b]: bind source /proc is denied by the "
        "built-in policy [host-path-denied]",
    ]


def policy_from(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "ops.policy.yaml"
    path.write_text(text)
    return read_policy(path)


def test_a_policy_file_allows_one_denied_path_and_narrows_the_rest(tmp_path: Path) -> None:
    policy = policy_from(tmp_path, "version: 1\nhost_paths:\n  allow: [/srv, /etc/nginx]\n")

    assert violations(bind_spec("/etc/nginx/conf.d"), policy) == []
    assert violations(bind_spec("/srv/www"), policy) == []
    (outside,) = violations(bind_spec("/opt/app"), policy)
    assert outside.endswith(
        "bind source /opt/app is outside the host paths policy "
        f"{tmp_path}/ops.policy.yaml allows (/srv, /etc/nginx) [host-path-not-allowed]"
    )
    (still_denied,) = violations(bind_spec("/etc/passwd"), policy)
    assert "lies under /etc, denied by the built-in policy" in still_denied


def test_an_ancestor_is_lifted_only_by_allowing_the_denied_path_itself() -> None:
    socket = Policy(allow=(Rule.parse("/", "p"), Rule.parse("/var/run/docker.sock", "p")))
    assert violations(bind_spec("/var/run/docker.sock"), socket) == []
    (problem,) = violations(bind_spec("/var/run"), Policy(allow=(Rule.parse("/var", "p"),)))
    assert "would expose /var/run/docker.sock" in problem


def test_a_policy_file_narrows_drivers_labels_and_write_access(tmp_path: Path) -> None:
    policy = policy_from(
        tmp_path,
        "version: 1\nhost_paths: {deny: [/srv/secrets], read_write: false}\n"
        "volumes: {drivers: [local, rexray], driver_options: {local: [type, device]}}\n"
        "required_labels: {volumes: [team], containers: [team]}\n",
    )
    text = (
        f"{HEAD}volumes:\n  data: {{driver: rexray, driver_opts: {{size: '20'}}}}\n"
        "  tmp: {driver_opts: {type: tmpfs, device: tmpfs, o: size=1m}, labels: {team: a}}\n"
        "containers:\n  web:\n    image: bb\n    mounts: ['/srv/secrets/k:/k:ro', '/srv/w:/w']\n"
    )

    assert [p.split(": error: ")[1].rsplit("[", 1)[1] for p in violations(text, policy)] == [
        "missing-required-label]",
        "driver-option-not-allowed]",
        "missing-required-label]",
        "host-path-denied]",
        "read-write-bind]",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nhost_path: {}\n",
            "p.yaml:2:1: error: host_path: unknown key 'host_path'; did you mean 'host_paths'? "
            "[unknown-key]",
        ),
        (
            "version: 1\nhost_paths: {allow: [srv]}\n",
            "p.yaml:2:22: error: host_paths.allow[0]: host path 'srv' must be absolute "
            "[invalid-value]",
        ),
        (
            "version: 1\nhost_paths: {reed_write: false}\n",
            "p.yaml:2:14: error: host_paths.reed_write: unknown key 'reed_write'; did you mean "
            "'read_write'? [unknown-key]",
        ),
        ("", "p.yaml:1:1: error: a policy file holds exactly one YAML document [policy-file]"),
        (
            "version: 1\nx: &a 1\n",
            "p.yaml:2:4: error: anchors and aliases are not allowed [yaml-alias]",
        ),
    ],
)
def test_a_bad_policy_file_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text(text)

    with pytest.raises(SpecError) as caught:
        read_policy(Path("p.yaml"))

    assert [str(p) for p in caught.value.problems] == [expected]


def test_the_policy_comes_from_the_operator_not_the_spec_directory(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "volplan.policy.yaml").write_text("version: 1\nhost_paths: {allow: [/etc]}\n")

    assert load_policy(None, spec_dir=specs, cwd=tmp_path) is DEFAULT_POLICY
    with pytest.raises(RefusedError, match="inside the spec directory under review"):
        load_policy(None, spec_dir=tmp_path, cwd=specs)
    explicit = load_policy(specs / "volplan.policy.yaml", spec_dir=specs)
    assert [str(r.pattern) for r in explicit.allow] == ["/etc"]
    (tmp_path / "volplan.policy.yaml").write_text("version: 1\nhost_paths: {read_write: false}\n")
    assert not load_policy(None, spec_dir=specs, cwd=tmp_path).read_write_binds


@pytest.mark.parametrize(
    ("pattern", "path", "covers", "lies_under"),
    [
        ("/etc", "/etc", True, False),
        ("/etc", "/etc/x", True, False),
        ("/etc", "/etcetera", False, False),
        ("/etc", "/", False, True),
        ("/home/*/.ssh", "/home/a/.ssh/k", True, False),
        ("/home/*/.ssh", "/home/a", False, True),
        ("/home/*/.ssh", "/home/a/.sshx", False, False),
    ],
)
def test_patterns_match_whole_components(
    pattern: str, path: str, covers: bool, lies_under: bool
) -> None:
    parsed = PathPattern.parse(pattern)
    parts = PathPattern.parse(path).parts

    assert (parsed.covers(parts), parsed.lies_under(parts)) == (covers, lies_under)
