"""The plan's vocabulary: a closed set of frozen actions, each saying why it exists. Pure.

An action's ``requires`` holds the keys (identity.py) of actions that must finish before
it starts, so an applier may run independent actions side by side. Every key a plan's
actions require names an action of that plan: ``Plan`` refuses to exist otherwise, so a
renamed kind cannot silently drop an ordering.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from reconciler.container_options import Dependency
from reconciler.errors import Position
from reconciler.identity import VERBS, ActionKey, ActionKind, Address
from reconciler.model import AnonymousVolume, Change, DesiredContainer, DesiredVolume


class Safety(StrEnum):
    """What an action does to data; only ``DESTROYS_DATA`` needs an explicit opt-in."""

    SAFE = "safe"
    RESTARTS = "restarts-container"
    DESTROYS_DATA = "destroys-data"


@dataclass(frozen=True, kw_only=True)
class _Action:
    reason: str
    origin: Position | None = None
    changes: tuple[Change, ...] = ()
    requires: tuple[ActionKey, ...] = ()


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
    """Replace a container whose config or mounts changed; its anonymous volumes carry over.

    With ``adopt``, the container exists but volplan did not create it (by hand, or by
    Compose): it is recreated the same way, its anonymous and image volumes handed to the
    new container, which gains volplan's labels. Containers cannot be relabelled in place.
    """

    container: DesiredContainer
    old_id: str
    was_running: bool
    anonymous: tuple[AnonymousVolume, ...] = ()
    adopt: bool = False


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
    waits_for: tuple[Dependency, ...] = ()
    """The container's ``depends_on``: the applier starts it once they are in their state."""


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
    """How an action is shown: its kind, resource address and safety class."""

    kind: ActionKind
    address: Address
    safety: Safety

    @property
    def key(self) -> ActionKey:
        return ActionKey(self.kind, self.address)

    @property
    def verb(self) -> str:
        return VERBS[self.kind].text

    @property
    def symbol(self) -> str:
        verb = VERBS[self.kind]
        if self.safety is Safety.DESTROYS_DATA and verb.destroying is not None:
            return verb.destroying
        return verb.symbol


def describe(action: Action) -> Describe:
    match action:
        case CreateVolume(volume=desired):
            return Describe(ActionKind.CREATE, Address.volume(desired.name), Safety.SAFE)
        case ReplaceVolume(volume=desired, saved_in=None):
            return Describe(ActionKind.REPLACE, Address.volume(desired.name), Safety.DESTROYS_DATA)
        case ReplaceVolume(volume=desired):
            return Describe(ActionKind.REPLACE, Address.volume(desired.name), Safety.RESTARTS)
        case RemoveVolume(name=name):
            return Describe(ActionKind.REMOVE, Address.volume(name), Safety.DESTROYS_DATA)
        case CopyVolume() | RemoveTemporaryVolume() | BackupVolume() | FinishRecreate():
            return _describe_safety_step(action)
        case CreateContainer(container=desired):
            return Describe(ActionKind.CREATE, Address.container(desired.name), Safety.SAFE)
        case RecreateContainer(container=desired, adopt=adopt):
            kind = ActionKind.ADOPT if adopt else ActionKind.RECREATE
            return Describe(kind, Address.container(desired.name), Safety.RESTARTS)
        case RemoveContainer(name=name, was_running=was_running):
            # Removing a container that is not running stops nothing.
            safety = Safety.RESTARTS if was_running else Safety.SAFE
            return Describe(ActionKind.REMOVE, Address.container(name), safety)
        case StartContainer(name=name):
            return Describe(ActionKind.START, Address.container(name), Safety.SAFE)
        case StopContainer(name=name):
            return Describe(ActionKind.STOP, Address.container(name), Safety.RESTARTS)


def _describe_safety_step(
    action: CopyVolume | RemoveTemporaryVolume | BackupVolume | FinishRecreate,
) -> Describe:
    """The data-safety steps (see data_safety.py): none of them destroys data."""
    match action:
        case CopyVolume(target=target):
            return Describe(ActionKind.COPY, Address.volume(target), Safety.SAFE)
        case RemoveTemporaryVolume(name=name):
            return Describe(ActionKind.REMOVE, Address.volume(name), Safety.SAFE)
        case BackupVolume(name=name):
            return Describe(ActionKind.BACKUP, Address.volume(name), Safety.SAFE)
        case FinishRecreate(name=name, roll_back=roll_back):
            kind = ActionKind.ROLL_BACK if roll_back else ActionKind.FINISH
            return Describe(kind, Address.container(name), Safety.SAFE)


def action_key(action: Action) -> ActionKey:
    """The action's key, unique within a plan, used by ``requires``."""
    return describe(action).key


class Noop(NamedTuple):
    """A declared resource the plan leaves alone, and why. (A tuple: a converged engine's
    plan holds one for each of its resources.)"""

    address: Address
    reason: str


@dataclass(frozen=True)
class Note:
    """A decision not to act, e.g. a pruned volume kept because it is in use."""

    address: Address
    message: str


@dataclass(frozen=True)
class Plan:
    """The ordered actions (a valid sequential order) plus why everything else is left alone.

    Keys are unique, and every key an action requires is the key of an earlier action:
    a plan that breaks either is a bug in the planner, refused here.
    """

    actions: tuple[Action, ...]
    unchanged: tuple[Noop, ...] = ()
    notes: tuple[Note, ...] = ()
    adopted: tuple[Noop, ...] = ()
    """Volumes volplan did not create that match the specs: used as they are, every time
    (a volume cannot be relabelled), so they are neither in ``actions`` nor ``unchanged``."""

    def __post_init__(self) -> None:
        seen: set[ActionKey] = set()
        for action in self.actions:
            key = action_key(action)
            missing = [str(k) for k in action.requires if k not in seen]
            if missing:
                raise ValueError(
                    f"{key} requires {', '.join(missing)}, which no earlier action of the plan is"
                )
            if key in seen:
                raise ValueError(f"two actions of the plan have the key {key}")
            seen.add(key)

    @property
    def destructive(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if describe(a).safety is Safety.DESTROYS_DATA)

    def counts(self) -> dict[ActionKind, int]:
        """How many actions of each kind, every kind listed, in a fixed order."""
        found = Counter(describe(a).kind for a in self.actions)
        return {kind: found[kind] for kind in ActionKind}
