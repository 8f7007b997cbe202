"""Executing the data-safety actions: copies, temporary volume removal, backups, recovery.

Split from applier.py so that ``applier.execute`` stays a plain dispatch over the actions.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from reconciler.content.backup import Target, backup, backup_file_name
from reconciler.content.volume_io import copy_volume
from reconciler.engine.base import Engine, VolumeCreate
from reconciler.errors import EngineNotFound
from reconciler.plan.actions import BackupVolume, CopyVolume, FinishRecreate, RemoveTemporaryVolume

SafetyStep = CopyVolume | RemoveTemporaryVolume | BackupVolume | FinishRecreate


def run_safety_step(action: SafetyStep, engine: Engine) -> None:
    match action:
        case CopyVolume():
            _copy(engine, action)
        case RemoveTemporaryVolume(name=name):
            engine.remove_volume(name)
        case BackupVolume(name=name, directory=directory, helper_image=image):
            output = Path(directory) / backup_file_name(name)
            backup(engine, image, Target.volume(name), output, progress=lambda _: None)
        case FinishRecreate():
            _finish_recreate(engine, action)


def _copy(engine: Engine, action: CopyVolume) -> None:
    if action.create_target is not None:
        if action.fresh_target:
            with contextlib.suppress(EngineNotFound):
                engine.remove_volume(action.target)
        engine.create_volume(
            VolumeCreate(
                name=action.target, driver="local", driver_opts={}, labels=action.create_target
            )
        )
    copy_volume(engine, action.helper_image, source=action.source, target=action.target)


def _finish_recreate(engine: Engine, action: FinishRecreate) -> None:
    if action.roll_back:
        engine.rename_container(action.old_id, action.name)
        return
    engine.stop_container(action.old_id, None)  # it was stopped already; this makes sure
    engine.remove_container(action.old_id)
