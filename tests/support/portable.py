"""Which engine-backed tests must hold on Podman too: the ``portable`` marker.

scripts/test runs the whole suite against dockerd, then ``-m portable`` against Podman's
Docker-compatible API (``VOLPLAN_TEST_ENGINE=podman``). Portable are the tests of the
modules below: the core plan/apply cycle over every example, drift, status, prune,
saved plans, anonymous volumes, mount flags, image-declared volumes (recreates killed
at every call), container options, adoption, export, engine errors, locks, policies, an
engine over TCP, graph, the CI examples, and the pinned differences. Left out of them,
with the reason (NOT_ON_PODMAN): the tests that meet a difference pinned in
test_podman_differences.py.
Left out as modules: backup, restore and --migrate (test_backup_restore, test_migrate,
the content tests of test_offline_engine and test_first_use: refused on Podman, whose
archive reads cannot tell owners); ``service_healthy`` (test_depends_on_engine: the
private Podman runs no healthcheck); the modules that start more engines or need dockerd
itself (contexts, TLS, ssh, leases from another machine, crash injection, fleet, Swarm,
watch, image pulls, Compose); and the modules that test volplan's own CLI more than the
engine (first use, shell habits, hostile specs), which would only spend the Podman
pass's time budget.
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
        "test_image_volumes.py",
        "test_options_engine.py",
        "test_adoption.py",
        "test_export.py",
        "test_engine_errors.py",
        "test_lock_engine.py",
        "test_security_cli.py",
        "test_remote_endpoint.py",
        "test_graph_engine.py",
        "test_ci_examples.py",
        "test_podman_differences.py",
    }
)

_QUOTA = "the driver-options example: a tmpfs size= option needs an XFS project quota"
_DAEMON_ID = "it compares daemon_id with /info's ID, which Podman makes anew on every call"
NOT_ON_PODMAN = {
    "test_core.py::test_every_example_applies_and_a_second_plan_is_empty[driver-options]": _QUOTA,
    "test_core.py::test_a_volume_change_is_refused_without_opt_in_and_nothing_changes": _QUOTA,
    "test_mount_flags.py::test_z_and_Z_reach_the_engine_and_converge": (
        "Podman reports a bind's mode and z/Z differently in Mounts[].Mode"
    ),
    "test_saved_plan_engine.py::test_plan_json_is_clean_deterministic_and_matches_the_schema": (
        _DAEMON_ID
    ),
    "test_remote_endpoint.py::test_reads_over_tcp_use_the_sdk_and_say_the_engine_is_remote": (
        _DAEMON_ID
    ),
    "test_options_engine.py::"
    "test_every_option_is_visible_in_docker_inspect_and_the_next_plan_is_empty": (
        "Podman reports tmpfs and ulimits with its defaults added and runs no healthcheck here "
        "(the next plan is empty on Podman too)"
    ),
    "test_export.py::test_a_hand_made_host_is_exported_applied_and_planned_empty_with_its_data": (
        "Podman names images in full and reports its default ulimits on every container, "
        "which export writes out"
    ),
}
"""Tests of the portable modules that meet a pinned difference, and which one."""


def portable(module: str, name: str) -> bool:
    """Whether test ``name`` of ``module`` (a file name) must hold on Podman too."""
    return module in PORTABLE_MODULES and f"{module}::{name}" not in NOT_ON_PODMAN


def not_portable_reason(module: str, name: str) -> str:
    return NOT_ON_PODMAN.get(f"{module}::{name}") or "not among the portable tests"
