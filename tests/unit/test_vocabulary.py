"""The plan's typed vocabulary: addresses and keys, the one verb table, and keys that resolve."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from support.gitops import SCHEMAS

from reconciler.apply.scheduler import run_actions
from reconciler.identity import VERBS, ActionKey, ActionKind, Address, ResourceKind
from reconciler.plan.actions import Action, Plan, RemoveContainer, StartContainer, describe
from reconciler.plan.document import PLAN_FORMAT_VERSION


@dataclass(frozen=True)
class Done:
    action: Action
    ok: bool = True
    fatal: bool = False


PLAN_SCHEMA = json.loads((SCHEMAS / "plan.schema.json").read_text())
CHANGE = PLAN_SCHEMA["$defs"]["resource_change"]["properties"]


def test_the_schema_lists_exactly_the_table_of_kinds() -> None:
    assert CHANGE["verb"]["enum"] == [verb.text for verb in VERBS.values()]
    terraform = {tuple(actions) for actions in CHANGE["change"]["properties"]["actions"]["enum"]}
    assert terraform == {verb.terraform for verb in VERBS.values()}
    summary = PLAN_SCHEMA["properties"]["summary"]["required"]
    assert summary == [*(kind.value for kind in ActionKind), "total", "destructive"]
    assert CHANGE["type"]["enum"] == [kind.value for kind in ResourceKind]
    assert list(VERBS) == list(ActionKind)


def test_the_schema_accepts_the_version_written() -> None:
    pattern = PLAN_SCHEMA["properties"]["format_version"]["pattern"]
    assert re.fullmatch(pattern, PLAN_FORMAT_VERSION)


def test_summary_keys_and_action_keys_are_identifiers() -> None:
    key = ActionKey(ActionKind.ROLL_BACK, Address.container("web"))

    assert str(key) == "container.web:roll_back"
    assert re.fullmatch(CHANGE["key"]["pattern"], str(key))
    assert all(re.fullmatch(r"[a-z_]+", kind.value) for kind in ActionKind)


@pytest.mark.parametrize("text", ["volume.data", "container.my.app-1", "volume.a:b"])
def test_addresses_read_back_what_they_print(text: str) -> None:
    assert str(Address.parse(text)) == text


@pytest.mark.parametrize("text", ["volume", "network.x", "volume.", ".x", ""])
def test_what_is_not_an_address_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a resource address"):
        Address.parse(text)


def test_keys_read_back_what_they_print() -> None:
    key = ActionKey(ActionKind.REPLACE, Address.volume("data"))

    assert ActionKey.parse(str(key)) == key
    with pytest.raises(ValueError, match="not an action key"):
        ActionKey.parse("volume.data:roll back")


def test_a_plan_whose_action_requires_an_unknown_key_cannot_be_built() -> None:
    missing = ActionKey(ActionKind.CREATE, Address.container("db"))
    action = StartContainer(name="web", reason="test", requires=(missing,))

    with pytest.raises(ValueError, match=r"container\.web:start requires container\.db:create"):
        Plan(actions=(action,))
    with pytest.raises(ValueError, match=r"container\.db:create"):
        run_actions([action], Done, parallelism=1, on_start=print, on_result=print)


def test_a_plan_refuses_two_actions_with_one_key() -> None:
    action = StartContainer(name="web", reason="test")

    with pytest.raises(
        ValueError, match=r"two actions of the plan have the key container\.web:start"
    ):
        Plan(actions=(action, action))


def test_removing_a_container_that_is_not_running_restarts_nothing() -> None:
    stopped = RemoveContainer(name="old", old_id="1", was_running=False, reason="test")
    running = RemoveContainer(name="old", old_id="1", was_running=True, reason="test")

    assert describe(stopped).safety.value == "safe"
    assert describe(running).safety.value == "restarts-container"
