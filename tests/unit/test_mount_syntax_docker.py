"""The short mount syntax against Docker's own parser tables.

The strings are those of moby's ``volume/mounts/linux_parser_test.go``
(TestLinuxParseMountRaw, moby/moby at 5045a2de24e62095278bd10b7abce4153d713b2a): what
``docker run -v`` accepts, volplan accepts, and what it refuses, volplan refuses, except
where volplan's syntax says more on purpose (listed with the reason).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reconciler.spec.schema import MountSpec

DOCKER_VALID = [
    "/home",
    "/home:/home",
    "/home:/something/else",
    "/with space",
    "/home:/with space",
    "relative:/absolute-path",
    "hostPath:/containerPath:ro",
    "/hostPath:/containerPath:rw",
    "/rw:/ro",
    "/hostPath:/containerPath:shared",
    "/hostPath:/containerPath:rshared",
    "/hostPath:/containerPath:slave",
    "/hostPath:/containerPath:rslave",
    "/hostPath:/containerPath:private",
    "/hostPath:/containerPath:rprivate",
    "/hostPath:/containerPath:ro,shared",
    "/hostPath:/containerPath:ro,slave",
    "/hostPath:/containerPath:ro,private",
    "/hostPath:/containerPath:ro,z,shared",
    "/hostPath:/containerPath:ro,Z,slave",
    "/hostPath:/containerPath:Z,ro,slave",
    "/hostPath:/containerPath:slave,Z,ro",
    "/hostPath:/containerPath:Z,slave,ro",
    "/hostPath:/containerPath:slave,ro,Z",
    "/hostPath:/containerPath:rslave,ro,Z",
    "/hostPath:/containerPath:ro,rshared,Z",
    "/hostPath:/containerPath:ro,Z,rprivate",
]

DOCKER_INVALID = [
    "",
    "./",
    "../",
    "/:../",
    "/:path",
    ":",
    "/tmp:",
    ":test",
    ":/test",
    "tmp:",
    ":test:",
    "::",
    ":::",
    "/tmp:::",
    ":/tmp::",
    "path:ro",
    "/path:/path:sw",
    "/path:/path:rwz",
    "/path:/path:ro,rshared,rslave",
    "/path:/path:ro,z,rshared,rslave",
    "/path:shared",
    "/path:slave",
    "/path:private",
    "name:/absolute-path:shared",
    "name:/absolute-path:rshared",
    "name:/absolute-path:slave",
    "name:/absolute-path:rslave",
    "name:/absolute-path:private",
    "name:/absolute-path:rprivate",
]

ACCEPTED_ON_PURPOSE = {
    "/path:rw": "TARGET:FLAGS, an anonymous volume with flags (docker run has no such form)",
    "/path:ro": "TARGET:FLAGS, a read-only anonymous volume",
    "/rw:rw": "TARGET:FLAGS, with a target that looks like a flag",
}
"""Strings in Docker's invalid table that volplan's documented syntax accepts."""

ROOT_TARGETS = ["/", "//", "/..", "/srv:/", "data:/.", "/srv://"]
"""linuxValidateNotRoot: the target, cleaned, must not be '/'."""


@pytest.mark.parametrize("text", DOCKER_VALID)
def test_what_docker_accepts_volplan_accepts(text: str) -> None:
    MountSpec.model_validate(text)


@pytest.mark.parametrize("text", [*DOCKER_INVALID, *ROOT_TARGETS])
def test_what_docker_refuses_volplan_refuses(text: str) -> None:
    with pytest.raises(ValidationError):
        MountSpec.model_validate(text)


@pytest.mark.parametrize("text", ACCEPTED_ON_PURPOSE)
def test_the_target_and_flags_form_is_volplans_own(text: str) -> None:
    mount = MountSpec.model_validate(text)
    assert mount.source is None
    assert mount.read_only is (text.endswith(":ro"))


@pytest.mark.parametrize(
    ("text", "selinux", "read_only"),
    [
        ("/hostPath:/containerPath:ro,z,shared", "z", True),
        ("/hostPath:/containerPath:Z,slave,ro", "Z", True),
        ("data:/var/lib/data:Z", "Z", False),
    ],
)
def test_selinux_flags_are_kept(text: str, selinux: str, read_only: bool) -> None:
    mount = MountSpec.model_validate(text)
    assert (mount.selinux, mount.read_only) == (selinux, read_only)
