"""Property tests: generated valid specs load and converge on the fake engine; damaged or
garbage specs give a clean ``SpecError``, never another exception.

Each test counts the inputs it tried and records them; tests/support/fuzz_counts.py prints
the counts at the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import as_yaml, damaged, json_values, valid_specs

from reconciler.apply.applier import ApplyOptions, apply_plan
from reconciler.diff.differ import diff_states
from reconciler.engine.fake import FakeEngine
from reconciler.errors import SpecError
from reconciler.live.reader import read_live_state
from reconciler.model import DesiredState
from reconciler.plan.planner import make_plan
from reconciler.policy.rules import DEFAULT_POLICY, check_policy
from reconciler.spec.files import SpecSource
from reconciler.spec.loader import build_desired_state

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

RecordProperty = Callable[[str, Any], None]


def load(raw: bytes) -> DesiredState:
    return build_desired_state([SpecSource("fuzz.yaml", "/srv/specs", raw)])


def load_or_spec_error(raw: bytes) -> DesiredState | None:
    """The only acceptable outcomes: a desired state, or a SpecError with positions."""
    try:
        desired = load(raw)
    except SpecError as exc:
        problems = exc.problems
    else:
        check_policy(desired, DEFAULT_POLICY)
        return desired
    assert problems
    assert all(p.position.file == "fuzz.yaml" and p.position.line >= 1 for p in problems)
    return None


def test_valid_specs_load_and_converge_on_an_empty_engine(record_property: RecordProperty) -> None:
    tried = 0

    @FUZZ
    @given(spec=valid_specs(), indent=st.sampled_from([None, 2]))
    def converges(spec: dict[str, Any], indent: int | None) -> None:
        nonlocal tried
        tried += 1
        desired = load(as_yaml(spec, indent).encode())
        assert set(desired.containers) == set(spec["containers"])
        assert check_policy(desired, DEFAULT_POLICY) == []
        engine = FakeEngine()
        live = read_live_state(engine)
        apply_plan(
            make_plan(desired, live, diff_states(desired, live)), engine, options=ApplyOptions()
        )
        live = read_live_state(engine)
        assert make_plan(desired, live, diff_states(desired, live)).actions == ()

    converges()
    record_property("fuzz_inputs", tried)


@pytest.mark.parametrize("indent", [None, 2])
def test_damaged_specs_give_a_clean_spec_error(
    indent: int | None, record_property: RecordProperty
) -> None:
    tried = 0

    @FUZZ
    @given(data=st.data())
    def clean(data: st.DataObject) -> None:
        nonlocal tried
        tried += 1
        text = data.draw(damaged(as_yaml(data.draw(valid_specs()), indent)))
        load_or_spec_error(text.encode())

    clean()
    record_property("fuzz_inputs", tried)


def test_garbage_gives_a_clean_spec_error(record_property: RecordProperty) -> None:
    tried = 0

    @FUZZ
    @given(
        raw=st.binary(max_size=400)
        | json_values.map(lambda v: as_yaml({"version": 1, "x": v}, 2).encode())
    )
    def clean(raw: bytes) -> None:
        nonlocal tried
        tried += 1
        load_or_spec_error(raw)

    clean()
    record_property("fuzz_inputs", tried)
