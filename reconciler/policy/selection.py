"""Which policy applies to a spec directory: the operator's file, or the built-in policy.

The policy comes from the operator's side: ``--policy FILE``, else
``./volplan.policy.yaml`` in the current directory, else the built-in policy. A policy
file found in the current directory is refused when it lies inside the spec directory
under review, where the pull request being checked could have written it; pointing at it
with ``--policy`` is the explicit way to use it anyway. The file's reader (file.py, with
pydantic and ruamel.yaml) is imported only when there is a file to read.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import RefusedError
from reconciler.policy.rules import DEFAULT_POLICY, Policy
from reconciler.spec.files import POLICY_FILE_NAME


def load_policy(explicit: Path | None, *, spec_dir: Path, cwd: Path | None = None) -> Policy:
    """The policy to enforce for ``spec_dir``: the explicit file, the operator's, or built-in."""
    if explicit is not None:
        return _read(explicit)
    candidate = (cwd or Path.cwd()) / POLICY_FILE_NAME
    if not candidate.is_file():
        return DEFAULT_POLICY
    reviewed = spec_dir if spec_dir.is_dir() else spec_dir.parent  # a file: its folder
    if candidate.resolve().is_relative_to(reviewed.resolve()):
        raise RefusedError(
            f"refusing to use {candidate}: it lies inside the spec directory under review, "
            "where a change under review could have written it; keep the policy outside the "
            f"spec directory, or pass --policy {candidate} to use it anyway"
        )
    return _read(candidate)


def _read(path: Path) -> Policy:
    from reconciler.policy.file import read_policy

    return read_policy(path)
