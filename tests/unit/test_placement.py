"""A document's ``targets: {labels: ...}``: its validation, and which projects an engine takes."""

from __future__ import annotations

import pytest

from reconciler.engine.records import engine_labels
from reconciler.errors import SpecError
from reconciler.model import DesiredState
from reconciler.pipeline import load
from reconciler.spec.placement import place
from specs import sources_from

EDGE = "version: 1\nproject: edge\ntargets:\n  labels: {role: edge, zone: a}\nvolumes: {e1: {}}\n"
ANY = "version: 1\nproject: any\nvolumes: {a1: {}}\n"


def desired(*texts: str) -> DesiredState:
    return load(sources_from(*texts)).desired


def test_a_project_goes_where_every_label_it_asks_for_matches() -> None:
    specs = desired(EDGE, ANY)

    assert specs.placement == {"edge": {"role": "edge", "zone": "a"}}
    here = place(specs, {"role": "edge", "zone": "a", "disk": "ssd"})
    assert here == specs
    elsewhere = place(specs, {"role": "edge", "zone": "b"})
    assert elsewhere.projects == ("any",)
    assert elsewhere.elsewhere == ("edge",)
    assert set(elsewhere.volumes) == {"a1"}
    assert place(elsewhere, {}) == elsewhere


def test_the_engines_info_labels_are_key_value_pairs() -> None:
    assert engine_labels(["role=edge", "zone=a=b", "bare", "role=core"]) == {
        "role": "core",
        "zone": "a=b",
        "bare": "",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nproject: pp\ntargets: {label: {role: edge}}\n",
            "spec0.yaml:3:11: error: targets.label: unknown key 'label'",
        ),
        (
            "version: 1\nproject: pp\ntargets:\n  labels: {role: 1}\n",
            "spec0.yaml:4:18: error: targets.labels.role: Input should be a valid string, "
            "got 1 (quote it in YAML)",
        ),
    ],
)
def test_a_wrong_targets_field_is_one_error_at_its_place(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        desired(text)

    assert [str(p).partition(" [")[0] for p in caught.value.problems] == [expected]


def test_the_documents_of_a_project_must_agree_on_its_targets() -> None:
    other = "version: 1\nproject: edge\nvolumes: {e2: {}}\n"

    with pytest.raises(SpecError) as caught:
        desired(EDGE, other)

    assert [str(p) for p in caught.value.problems] == [
        "spec1.yaml:2:1: error: project: project 'edge' goes to targets labelled (none) here "
        "but role=edge, zone=a at spec0.yaml:3:1: every document of a project needs the same "
        "targets: labels [conflicting-targets]"
    ]
