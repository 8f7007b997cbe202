"""Which engine-backed tests must hold on Podman too: the ``portable`` marker.

scripts/test runs the whole suite against dockerd, then ``-m portable`` against Podman's
Docker-compatible API (``VOLPLAN_TEST_ENGINE=podman``). Portable are the tests of the
modules below: the core plan/apply cycle over every example, drift, status, prune,
saved plans, anonymous volumes, mount flags, and the pinned differences. Left out, with
the reason: the examples and tests that meet a difference pinned in
test_podman_differences.py, and the modules that need dockerd itself (a second engine,
a TLS listener, crash injection, image builds beyond the examples) or the archive
endpoints (backup, restore, --migrate: refused on Podman, see there).
"""

from __future__ import annotations

PORTABLE_MODULES = frozenset(
    {
        "test_core.py",
        "test_drift_engine.py",
        "test_status_engine.py",
        "test_prune_engine.py",
        "test_saved_plan_engine.py",
        "test_anonymous_volumes.py",
        "test_mount_flags.py",
        "test_podman_differences.py",
    }
)

_QUOTA = "the driver-options example: a tmpfs size= option needs an XFS project quota"
_INHERITED_BINDS = "readonly-config: Podman does not report binds inherited by volumes_from"
NOT_ON_PODMAN = {
    "test_core.py::test_every_example_applies_and_a_second_plan_is_empty[driver-options]": _QUOTA,
    "test_core.py::test_a_volume_change_is_refused_without_opt_in_and_nothing_changes": _QUOTA,
    "test_core.py::test_every_example_applies_and_a_second_plan_is_empty[readonly-config]": (
        _INHERITED_BINDS
    ),
    "test_core.py::test_changing_one_mount_recreates_exactly_that_container_and_keeps_data": (
        _INHERITED_BINDS
    ),
    "test_mount_flags.py::test_z_and_Z_reach_the_engine_and_converge": (
        "Podman reports a bind's mode and z/Z differently in Mounts[].Mode"
    ),
    "test_saved_plan_engine.py::test_plan_json_is_clean_deterministic_and_matches_the_schema": (
        "it compares daemon_id with /info's ID, which Podman makes anew on every call"
    ),
}
"""Tests of the portable modules that meet a pinned difference, and which one."""


def portable(module: str, name: str) -> bool:
    """Whether test ``name`` of ``module`` (a file name) must hold on Podman too."""
    return module in PORTABLE_MODULES and f"{module}::{name}" not in NOT_ON_PODMAN


def not_portable_reason(module: str, name: str) -> str:
    return NOT_ON_PODMAN.get(f"{module}::{name}") or "not among the portable tests"
