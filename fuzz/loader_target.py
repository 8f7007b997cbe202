"""Coverage-guided fuzz target for the spec loader and the policy (atheris, libFuzzer).

Any bytes must either load into a desired state that the policy can check, or raise
``SpecError``; every other exception, a hang or a crash of the interpreter is a finding.

    python fuzz/loader_target.py fuzz/corpus -max_total_time=60 -print_final_stats=1

libFuzzer writes a finding to ``crash-<sha1>`` in the current directory; keep it under
``fuzz/crashes/``, where tests/fuzz/test_atheris_loader.py replays it on every run.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["reconciler"]):
    from reconciler.errors import SpecError
    from reconciler.policy.rules import DEFAULT_POLICY, check_policy
    from reconciler.spec.files import SpecSource
    from reconciler.spec.loader import build_desired_state


def load_and_check(data: bytes) -> None:
    try:
        desired = build_desired_state([SpecSource("fuzz.yaml", "/srv/specs", data)])
    except SpecError:
        return
    check_policy(desired, DEFAULT_POLICY)


def main() -> None:
    atheris.Setup(sys.argv, load_and_check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
