"""volplan's exception tree; the CLI turns each into one message and an exit code.

VolplanError
├── SpecError          bad spec files: carries every problem found, with positions
├── SpecPathError      the spec path is missing, not a file or folder, or holds no spec
├── PlanError          the live state makes the desired state impossible (conflicts)
├── RefusedError       a plan needs an opt-in the user did not give (data loss)
│   └── StalePlanError     a saved plan no longer matches its specs or the engine
├── PlanFileError      a saved plan file is unreadable, corrupt, or edited by hand
├── LockError          another run holds the engine lock for the project
├── OutputError        a report or plan file could not be written
├── AddressError       an engine address (--host, DOCKER_HOST) that is not one
├── ContextError       a Docker context that cannot be used: unknown, unreadable, in conflict
├── EngineError        the engine failed or could not be reached
│   ├── EngineUnreachable
│   ├── EngineConflict     409: a name taken, a volume in use
│   ├── EngineNotFound     404: removed concurrently
│   ├── EngineServerError  500: the engine failed internally
│   └── EngineTimeout      no answer in time
├── CopyMismatch       a copied volume differs from its source; nothing was removed
├── BackupError        a backup or restore cannot proceed (bad target or file, target not empty)
├── DependencyError    a container's depends_on did not reach its condition in time
├── FleetReportError   no agent of a Swarm service has reported a status (fleet-status)
└── ApplyError         an action failed half-way; carries what was and was not done
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

ReportT = TypeVar("ReportT")


@dataclass(frozen=True, order=True)
class Position:
    """Where a value came from: a file and a 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One spec problem, printed the way linters print them."""

    position: Position
    path: str
    message: str
    rule: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.position}: error: {where}{self.message} [{self.rule}]"


class VolplanError(Exception):
    """Base of every error volplan reports to the user without a traceback."""


class SpecError(VolplanError):
    """The spec files are invalid; every problem found is listed, sorted by position."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.position, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class SpecPathError(VolplanError):
    """The spec path names nothing to read: there is no file position to point at."""


class PlanError(VolplanError):
    """The engine holds something that stops the specs from being reached."""


class RefusedError(VolplanError):
    """The plan contains actions that need an explicit opt-in."""


class StalePlanError(RefusedError):
    """A saved plan was made against specs or an engine state that no longer hold."""


class PlanFileError(VolplanError):
    """A saved plan file cannot be used: unreadable, truncated, corrupt or edited."""


class LockError(VolplanError):
    """The project's lock on the engine is held by another run (or cannot be taken)."""


class Interrupted(VolplanError):
    """SIGTERM or SIGINT stopped a run whose work is in threads (a fleet's targets) before
    this part of it was done; what ran finished, and its locks were released."""


class ExportError(VolplanError):
    """``volplan export`` was asked for something the engine does not hold."""


class OutputError(VolplanError):
    """A report or plan file could not be written where the user asked."""


class AddressError(VolplanError):
    """An engine address no client could use: an unknown scheme such as ``bogus://``."""


class ContextError(VolplanError):
    """The Docker context (``--context``, ``DOCKER_CONTEXT``, the docker config's current
    one) names no usable endpoint: unknown, unreadable, invalid, or given with ``--host``."""


class EngineError(VolplanError):
    """The Docker engine answered with an error, or did not answer."""


class EngineUnreachable(EngineError):
    """No engine answers at the selected endpoint."""


class EngineConflict(EngineError):
    """The engine refused because of the current state (409): a name taken, a volume in use."""


class EngineNotFound(EngineError):
    """The engine does not know the resource (404), for instance removed concurrently."""


class EngineServerError(EngineError):
    """The engine failed internally (5xx); often transient."""


class EngineTimeout(EngineError):
    """The engine did not answer in time; whether a mutating request took effect is unknown."""


def engine_error(status: int | None, message: str) -> EngineError:
    """The error for an engine's HTTP error ``status``, whichever client received it."""
    if status == 404:
        return EngineNotFound(message)
    if status == 409:
        return EngineConflict(message)
    if status is not None and status >= 500:
        return EngineServerError(message)
    return EngineError(message)


class CopyMismatch(VolplanError):
    """A copy of a volume does not match its source, so the source is kept untouched."""


class BackupError(VolplanError):
    """A backup or restore cannot proceed: unknown target, unreadable file, non-empty target."""


class DependencyError(VolplanError):
    """A dependency failed, or did not reach its ``depends_on`` condition in time."""


class FleetReportError(VolplanError):
    """No agent of a Swarm service has written a status line volplan can read."""


class ApplyError(VolplanError, Generic[ReportT]):
    """An action failed; ``report`` tells exactly what was done and what was not.

    Generic so this bottom layer need not know the applier's report type (apply/applier.py).
    """

    def __init__(self, message: str, report: ReportT) -> None:
        self.report = report
        super().__init__(message)
