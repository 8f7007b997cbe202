"""``apply --migrate``: replacing a volume without losing its content, as plan steps. Pure.

A volume's driver, options or labels cannot change in place. With --migrate, the planner's
``ReplaceVolume`` becomes: copy the content into a temporary volume (verified), replace the
volume, copy the content back (verified), remove the temporary volume; the containers
that mount the volume are created again only after that, so nothing writes to it meanwhile.

Every step can be cut short by a crash, so the state is read back from the engine alone.
The temporary volume ``NAME_volplan-migrate`` records the config hash NAME had when the copy
began. If NAME still has that hash, NAME holds the data and the temporary copy may be
partial: it is made again. Otherwise NAME was already replaced (or is gone), the temporary
volume holds the only full copy, and the migration resumes from copying it back. Only
migrations of volumes the specs declare are resumed: another project's (whose own run may
still be copying under its lock) is left to that project, and the plan says so.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from reconciler import labels
from reconciler.identity import ActionKey, Address
from reconciler.model import LiveState, LiveVolume, MountKind
from reconciler.plan.actions import (
    Action,
    CopyVolume,
    CreateContainer,
    CreateVolume,
    Note,
    Plan,
    RecreateContainer,
    RemoveTemporaryVolume,
    ReplaceVolume,
    action_key,
)


@dataclass(frozen=True)
class MigrationOptions:
    migrate: bool
    helper_image: str
    declared: AbstractSet[str] = frozenset()
    """The volumes the specs declare: only their interrupted migrations are resumed."""


def temporary_name(volume: str) -> str:
    return volume + labels.MIGRATION_SUFFIX


def plan_migrations(plan: Plan, live: LiveState, options: MigrationOptions) -> Plan:
    """Turn replacements into migrations (with --migrate) and resume interrupted ones."""
    found = {
        v.labels[labels.MIGRATION_OF]: v
        for v in live.volumes.values()
        if labels.MIGRATION_OF in v.labels
    }
    leftovers = {name: v for name, v in found.items() if name in options.declared}
    kept = [_foreign_leftover(v) for name, v in sorted(found.items()) if name not in leftovers]
    steps = _Steps(live, leftovers, options)
    handled: set[str] = set()
    actions: list[Action] = []
    for action in plan.actions:
        match action:
            case ReplaceVolume(volume=volume) if options.migrate or steps.saved(volume.name):
                actions += steps.replace(action)
                handled.add(volume.name)
            case CreateVolume(volume=volume) if volume.name in leftovers:
                actions += [action, *steps.copy_back(volume.name, after=action_key(action))]
                handled.add(volume.name)
            case _:
                actions.append(action)
    resumed = [a for name in sorted(leftovers.keys() - handled) for a in steps.leftover(name)]
    return replace(plan, actions=_wait_for_copies((*resumed, *actions)), notes=(*plan.notes, *kept))


def _foreign_leftover(temporary: LiveVolume) -> Note:
    migrated = temporary.labels[labels.MIGRATION_OF]
    return Note(
        Address.volume(temporary.name),
        f"kept: it holds a copy from an interrupted migration of volume {migrated}, which these "
        "specs do not declare; the run that owns that volume resumes it",
    )


@dataclass(frozen=True)
class _Steps:
    live: LiveState
    leftovers: dict[str, LiveVolume]
    options: MigrationOptions

    def saved(self, name: str) -> bool:
        """Whether the temporary volume, not ``name``, holds the one full copy of the data."""
        temporary = self.leftovers.get(name)
        if temporary is None:
            return False
        current = self.live.volumes.get(name)
        recorded = temporary.labels.get(labels.MIGRATION_FROM)
        return current is None or current.labels.get(labels.CONFIG_HASH) != recorded

    def replace(self, action: ReplaceVolume) -> list[Action]:
        name = action.volume.name
        temporary = temporary_name(name)
        steps: list[Action] = []
        requires = action.requires
        if not self.saved(name):
            save = self._save(name, requires)
            steps.append(save)
            requires = (action_key(save),)
        replaced = replace(
            action,
            saved_in=temporary,
            requires=requires,
            reason=f"{action.reason}; its content is kept in volume {temporary}",
        )
        return [*steps, replaced, *self.copy_back(name, after=action_key(replaced))]

    def _save(self, name: str, requires: tuple[ActionKey, ...]) -> CopyVolume:
        current = self.live.volumes[name]
        return CopyVolume(
            source=name,
            target=temporary_name(name),
            helper_image=self.options.helper_image,
            # No project label: prune and drift must never count it as a project volume.
            create_target={
                labels.MIGRATION_OF: name,
                labels.MIGRATION_FROM: current.labels.get(labels.CONFIG_HASH, ""),
            },
            fresh_target=name in self.leftovers,
            requires=requires,
            reason=f"save the content of volume {name} before it is replaced",
        )

    def copy_back(self, name: str, *, after: ActionKey | None) -> list[Action]:
        temporary = temporary_name(name)
        back = CopyVolume(
            source=temporary,
            target=name,
            helper_image=self.options.helper_image,
            requires=(after,) if after else (),
            reason=f"copy the saved content back into volume {name}",
        )
        return [
            back,
            RemoveTemporaryVolume(
                name=temporary,
                requires=(action_key(back),),
                reason=f"the copy back into {name} was verified; the temporary copy is not needed",
            ),
        ]

    def leftover(self, name: str) -> list[Action]:
        """A temporary volume whose migration needs no replacement any more."""
        if self.saved(name):
            return self.copy_back(name, after=None)
        return [
            RemoveTemporaryVolume(
                name=temporary_name(name),
                reason=(
                    f"a partial copy left by an interrupted migration of {name}; {name} itself "
                    "was never replaced and holds the data"
                ),
            )
        ]


def _wait_for_copies(actions: tuple[Action, ...]) -> tuple[Action, ...]:
    """Containers mounting a migrated volume start only once its temporary copy is gone.

    Until then a re-run may copy the saved content back over the volume, which must not
    overwrite anything a container wrote.
    """
    removal = {
        a.name.removesuffix(labels.MIGRATION_SUFFIX): action_key(a)
        for a in actions
        if isinstance(a, RemoveTemporaryVolume)
    }
    return tuple(_waiting(action, removal) for action in actions)


def _waiting(action: Action, removal: dict[str, ActionKey]) -> Action:
    if not isinstance(action, CreateContainer | RecreateContainer):
        return action
    mounted = {m.source for m in action.container.mounts if m.kind is MountKind.VOLUME}
    extra = {removal[name] for name in mounted if name in removal}
    return replace(action, requires=tuple(sorted({*action.requires, *extra}, key=str)))
