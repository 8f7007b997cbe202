"""Host paths as the policy compares them: normalised, split into components, matched
against patterns such as ``/home/*/.ssh``. Pure.

Matching is by whole components, so ``/etc`` covers ``/etc/nginx`` but not ``/etcetera``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from reconciler.spec.mount_syntax import normalise_host_path

Parts = tuple[str, ...]
Resolve = Callable[[str], str]
"""Maps an absolute host path to the path it reaches once symlinks are followed."""

_WILDCARDS = frozenset("*?[")


def split(path: str) -> Parts:
    return tuple(part for part in normalise_host_path(path).split("/") if part)


@dataclass(frozen=True)
class PathPattern:
    """An absolute host path whose components may be shell wildcards (``*``, ``?``, ``[…]``)."""

    text: str
    parts: Parts

    @classmethod
    def parse(cls, text: str) -> PathPattern:
        normalised = normalise_host_path(text)
        return cls(normalised, split(normalised))

    def covers(self, path: Parts) -> bool:
        """``path`` is this pattern, or lies under it."""
        return len(path) >= len(self.parts) and self._prefix_matches(path)

    def lies_under(self, path: Parts) -> bool:
        """This pattern lies strictly under ``path``: binding ``path`` exposes it."""
        return len(path) < len(self.parts) and self._prefix_matches(path)

    def within(self, other: PathPattern) -> bool:
        """Everything this pattern matches, ``other`` covers too."""
        return len(self.parts) >= len(other.parts) and all(
            mine == theirs or fnmatchcase(mine, theirs)
            for mine, theirs in zip(self.parts, other.parts, strict=False)
        )

    def resolved(self, resolve: Resolve) -> PathPattern:
        """The pattern with its literal leading components resolved on the host.

        ``/var/run/docker.sock`` becomes ``/run/docker.sock`` where ``/var/run`` links to
        ``/run``; wildcard components and what follows them are kept as written.
        """
        literal = 0
        while literal < len(self.parts) and not _WILDCARDS & set(self.parts[literal]):
            literal += 1
        head = normalise_host_path(resolve("/" + "/".join(self.parts[:literal])))
        return PathPattern.parse(posixpath.join(head, *self.parts[literal:]))

    def _prefix_matches(self, path: Parts) -> bool:
        return all(
            fnmatchcase(part, pattern) for part, pattern in zip(path, self.parts, strict=False)
        )

    def __str__(self) -> str:
        return self.text
