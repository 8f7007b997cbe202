"""What names a resource and an action in a plan, and the one place they become text. Pure.

An ``Address`` (``volume.data``) names a resource; an ``ActionKey`` (``volume.data:replace``)
names one action of a plan: unique within it, and what ``requires`` holds. Both are typed
values everywhere else; only this module turns them into text and reads them back (saved
plans store them as text). ``VERBS`` is the one table of what each kind of action is
called: its verb, its symbol in a plan, and its name in Terraform's action vocabulary,
used by the text and JSON renderers and matched by the plan's JSON schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class ResourceKind(StrEnum):
    VOLUME = "volume"
    CONTAINER = "container"


class Address(NamedTuple):
    """A resource: its kind and name. (Addresses and keys are tuples because a plan hashes
    them in bulk, every key every action requires; a tuple hashes and compares in C.)"""

    kind: ResourceKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}.{self.name}"

    @classmethod
    def volume(cls, name: str) -> Address:
        return cls(ResourceKind.VOLUME, name)

    @classmethod
    def container(cls, name: str) -> Address:
        return cls(ResourceKind.CONTAINER, name)

    @classmethod
    def parse(cls, text: str) -> Address:
        """``volume.data`` -> ``Address(VOLUME, "data")``; ``ValueError`` if it is not one."""
        kind, dot, name = text.partition(".")
        if not dot or not name or kind not in set(ResourceKind):
            raise ValueError(f"not a resource address: {text!r}")
        return cls(ResourceKind(kind), name)


class ActionKind(StrEnum):
    """Every kind of action, in the order a plan's summary counts them."""

    FINISH = "finish"
    ROLL_BACK = "roll_back"
    BACKUP = "backup"
    COPY = "copy"
    CREATE = "create"
    RECREATE = "recreate"
    ADOPT = "adopt"
    REPLACE = "replace"
    REMOVE = "remove"
    START = "start"
    STOP = "stop"


@dataclass(frozen=True)
class Verb:
    """How an action kind is shown: its verb, its plan symbol (``destroying`` when the
    action destroys data, if that differs) and Terraform's actions for it."""

    text: str
    symbol: str
    terraform: tuple[str, ...]
    destroying: str | None = None


VERBS: Mapping[ActionKind, Verb] = {
    ActionKind.FINISH: Verb("finish", "~", ("delete",)),
    ActionKind.ROLL_BACK: Verb("roll back", "~", ("update",)),
    ActionKind.BACKUP: Verb("backup", "+", ("read",)),
    ActionKind.COPY: Verb("copy", "+", ("update",)),
    ActionKind.CREATE: Verb("create", "+", ("create",)),
    ActionKind.RECREATE: Verb("recreate", "~", ("create", "delete")),
    ActionKind.ADOPT: Verb("adopt", "~", ("create", "delete")),
    ActionKind.REPLACE: Verb("replace", "~", ("delete", "create"), destroying="!"),
    ActionKind.REMOVE: Verb("remove", "-", ("delete",)),
    ActionKind.START: Verb("start", "~", ("update",)),
    ActionKind.STOP: Verb("stop", "~", ("update",)),
}
"""A recreate makes the new container before it removes the old one: create-before-delete.
An adoption is a recreate of a container volplan did not create, so that it gains labels."""


class ActionKey(NamedTuple):
    """Names one action of a plan: what it does, to which resource. Keys are listed in
    the order of their text (``sorted(keys, key=str)``), as plans have always shown them."""

    kind: ActionKind
    address: Address

    def __str__(self) -> str:
        return f"{self.address}:{self.kind.value}"

    @classmethod
    def parse(cls, text: str) -> ActionKey:
        """``volume.data:replace`` -> its key; ``ValueError`` if it is not one."""
        address, colon, kind = text.rpartition(":")
        if not colon or kind not in set(ActionKind):
            raise ValueError(f"not an action key: {text!r}")
        return cls(ActionKind(kind), Address.parse(address))
