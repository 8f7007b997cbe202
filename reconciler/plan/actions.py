"""The plan's vocabulary: a closed set of frozen actions, each saying why it exists. Pure.

An action's ``requires`` names the keys of actions that must finish before it starts, so
an applier may run independent actions side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.errors import Position
from reconciler.model import DesiredContainer, DesiredVolume


class Safety(StrEnum):
    """What an action does to data; only ``DESTROYS_DATA`` needs an explicit opt-in."""

    SAFE = "safe"
    RESTARTS = "restarts-container"
    DESTROYS_DATA = "destroys-data"


@dataclass(frozen=True)
class Change:
    """One field that differs: ``before`` is live, ``after`` is desired (None = absent)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AnonymousVolume:
    """An anonymous volume a container gets at ``target``; ``exists`` says if it must be made."""

    target: str
    name: str
    exists: bool
    from_image: bool = False
    """The path is the image's ``VOLUME``, not one the spec mounts."""


@dataclass(frozen=True, kw_only=True)
class _Action:
    reason: str
    origin: Position | None = None
    changes: tuple[Change, ...] = ()
    requires: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CreateVolume(_Action):
    volume: DesiredVolume


@dataclass(frozen=True, kw_only=True)
class ReplaceVolume(_Action):
    """Remove and create again: local volumes cannot be changed in place.

    With ``saved_in``, a migration: the content was copied (and verified) into that
    temporary volume first and is copied back afterwards, so no data is lost.
    """

    volume: DesiredVolume
    saved_in: str | None = None


@dataclass(frozen=True, kw_only=True)
class CopyVolume(_Action):
    """Copy every entry of ``source`` into ``target`` and verify the copy.

    ``create_target`` holds the labels of a temporary volume to create first; with
    ``fresh_target`` an existing one is removed before, since a temporary volume left by an
    interrupted run may hold a partial copy. Without labels, ``target`` exists already.
    """

    source: str
    target: str
    helper_image: str
    create_target: Mapping[str, str] | None = None
    fresh_target: bool = False


@dataclass(frozen=True, kw_only=True)
class RemoveTemporaryVolume(_Action):
    """Remove a migration's temporary volume once its content is back in place, verified."""

    name: str


@dataclass(frozen=True, kw_only=True)
class BackupVolume(_Action):
    """Save a volume to a tar file in ``directory`` before an action replaces or removes it."""

    name: str
    directory: str
    helper_image: str


@dataclass(frozen=True, kw_only=True)
class FinishRecreate(_Action):
    """A recreate a crash cut short: the old container, stopped, still has the temporary name.

    ``roll_back``: no replacement exists, so the old container gets its name back (the plan
    then recreates it as usual); otherwise the replacement exists and the old one is removed,
    never its volumes.
    """

    name: str
    old_id: str
    roll_back: bool


@dataclass(frozen=True, kw_only=True)
class RemoveVolume(_Action):
    """Remove a volume the project's label claims but the specs no longer declare (prune).

    Only planned when no container will still hold it, and never for a protected volume.
    """

    name: str


@dataclass(frozen=True, kw_only=True)
class CreateContainer(_Action):
    container: DesiredContainer
    anonymous: tuple[AnonymousVolume, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RecreateContainer(_Action):
    """Replace a container whose config or mounts changed; its anonymous volumes carry over."""

    container: DesiredContainer
    old_id: str
    was_running: bool
    anonymous: tuple[AnonymousVolume, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RemoveContainer(_Action):
    """Remove a container (never its volumes), e.g. to free a volume that is replaced."""

    name: str
    old_id: str
    was_running: bool
    stop_timeout: int | None = None


@dataclass(frozen=True, kw_only=True)
class StartContainer(_Action):
    name: str


@dataclass(frozen=True, kw_only=True)
class StopContainer(_Action):
    name: str
    stop_timeout: int | None = None


Action = (
    CreateVolume
    | ReplaceVolume
    | RemoveVolume
    | CopyVolume
    | RemoveTemporaryVolume
    | BackupVolume
    | FinishRecreate
    | CreateContainer
    | RecreateContainer
    | RemoveContainer
    | StartContainer
    | StopContainer
)


@dataclass(frozen=True)
class Describe:
    """How an action is shown: its symbol, verb, resource address and safety class."""

    symbol: str
    verb: str
    address: str
    safety: Safety


def describe(action: Action) -> Describe:
    match action:
        case CreateVolume(volume=volume):
            return Describe("+", "create", f"volume.{volume.name}", Safety.SAFE)
        case ReplaceVolume(volume=volume, saved_in=None):
            return Describe("!", "replace", f"volume.{volume.name}", Safety.DESTROYS_DATA)
        case ReplaceVolume(volume=volume):
            return Describe("~", "replace", f"volume.{volume.name}", Safety.RESTARTS)
        case RemoveVolume(name=name):
            return Describe("-", "remove", f"volume.{name}", Safety.DESTROYS_DATA)
        case CopyVolume() | RemoveTemporaryVolume() | BackupVolume() | FinishRecreate():
            return _describe_safety_step(action)
        case CreateContainer(container=container):
            return Describe("+", "create", f"container.{container.name}", Safety.SAFE)
        case RecreateContainer(container=container):
            return Describe("~", "recreate", f"container.{container.name}", Safety.RESTARTS)
        case RemoveContainer(name=name):
            return Describe("-", "remove", f"container.{name}", Safety.RESTARTS)
        case StartContainer(name=name):
            return Describe("~", "start", f"container.{name}", Safety.SAFE)
        case StopContainer(name=name):
            return Describe("~", "stop", f"container.{name}", Safety.RESTARTS)


def _describe_safety_step(
    action: CopyVolume | RemoveTemporaryVolume | BackupVolume | FinishRecreate,
) -> Describe:
    """The data-safety steps (see data_safety.py): none of them destroys data."""
    match action:
        case CopyVolume(target=target):
            return Describe("+", "copy", f"volume.{target}", Safety.SAFE)
        case RemoveTemporaryVolume(name=name):
            return Describe("-", "remove", f"volume.{name}", Safety.SAFE)
        case BackupVolume(name=name):
            return Describe("+", "backup", f"volume.{name}", Safety.SAFE)
        case FinishRecreate(name=name, roll_back=roll_back):
            verb = "roll back" if roll_back else "finish"
            return Describe("~", verb, f"container.{name}", Safety.SAFE)


def action_key(action: Action) -> str:
    """A key unique within a plan, used by ``requires``."""
    shown = describe(action)
    return f"{shown.address}:{shown.verb}"


@dataclass(frozen=True)
class Plan:
    """The ordered actions (a valid sequential order) plus why everything else is left alone."""

    actions: tuple[Action, ...]
    unchanged: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def destructive(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if describe(a).safety is Safety.DESTROYS_DATA)

    def counts(self) -> dict[str, int]:
        """How many actions of each verb, every verb listed, in a fixed order."""
        verbs = (
            "finish",
            "roll back",
            "backup",
            "copy",
            "create",
            "recreate",
            "replace",
            "remove",
            "start",
            "stop",
        )
        found = [describe(a).verb for a in self.actions]
        return {verb: found.count(verb) for verb in verbs}
