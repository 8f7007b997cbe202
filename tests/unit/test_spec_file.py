"""The spec writer: its text loads back through the loader as the same desired state."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import MountKind
from reconciler.render.spec_file import SCHEMA_URL, render_spec_file
from reconciler.spec.files import SpecSource
from reconciler.spec.interpolation import Template
from reconciler.spec.loader import build_desired_state

DOCUMENT: dict[str, Any] = {
    # keys deliberately out of the schema's order: the writer puts them in it
    "containers": {
        "web": {
            "mounts": [
                "data:/data",
                {"type": "bind", "source": "./conf", "target": "/conf", "read_only": True},
            ],
            "environment": {"PRICE": "$5", "PLAIN": "yes"},
            "command": ["sh", "-c", "echo $HOME"],
            "image": "busybox",
            "network_mode": "none",
        }
    },
    "volumes": {"data": {"labels": {"team": "web"}}},
    "project": "shop",
    "version": 1,
}
COMMENTS = {
    ("containers", "web"): "service web, compose.yaml:3:3",
    ("containers", "web", "mounts", 1): "compose.yaml:9:7\nsecond line",
    ("volumes", "data"): "compose.yaml:12:3",
}


def _render() -> str:
    return render_spec_file([DOCUMENT], comments=[COMMENTS], header=["written by a test"])


def test_the_text_loads_back_with_values_as_written() -> None:
    state = build_desired_state([SpecSource("out.yaml", "/srv/specs", _render().encode())], {})
    web = state.containers["web"]
    assert web.environment == {"PRICE": "$5", "PLAIN": "yes"}
    assert web.command == ("sh", "-c", "echo $HOME")
    assert [(m.kind, m.source, m.read_only) for m in web.mounts] == [
        (MountKind.VOLUME, "data", False),
        (MountKind.BIND, "/srv/specs/conf", True),
    ]
    assert state.volumes["data"].labels == {"team": "web"}


def test_modeline_first_then_schema_order_and_comments() -> None:
    lines = _render().splitlines()
    assert lines[0] == f"# yaml-language-server: $schema={SCHEMA_URL}"
    assert lines[1:4] == ["# written by a test", "version: 1", "project: shop"]
    assert "  web:  # service web, compose.yaml:3:3" in lines
    assert "      - type: bind  # compose.yaml:9:7 second line" in lines
    assert lines.index("    image: busybox") < lines.index("    command:")


def test_a_template_is_written_to_be_interpolated() -> None:
    document = {
        "version": 1,
        "project": "shop",
        "containers": {"web": {"image": "busybox", "environment": {"T": Template("${T}")}}},
    }
    text = render_spec_file([document])
    assert '      T: "${T}"' in text.splitlines()
    state = build_desired_state([SpecSource("out.yaml", "/srv", text.encode())], {"T": "x"})
    assert state.containers["web"].environment == {"T": "x"}


def test_deterministic_and_documents_apart() -> None:
    assert _render() == _render()
    other = {"version": 1, "project": "other", "volumes": {"logs": {}}}
    two = render_spec_file([DOCUMENT, other])
    assert two.count("\n---\n") == 1
    state = build_desired_state([SpecSource("two.yaml", "/srv", two.encode())], {})
    assert {v.name: v.project for v in state.volumes.values()} == {"data": "shop", "logs": "other"}


@settings(max_examples=60, deadline=None)
@given(
    values=st.dictionaries(
        st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True),
        st.text(max_size=20),  # any character but surrogates, control ones included
        max_size=5,
    ),
    comment=st.text(max_size=30),
)
def test_any_text_loads_back_as_written(values: dict[str, str], comment: str) -> None:
    """Values with ``$``, quotes, colons, ``#`` or YAML words (``yes``, ``null``) stay text."""
    document = {
        "version": 1,
        "project": "shop",
        "containers": {"web": {"image": "busybox", "environment": values}},
    }
    text = render_spec_file([document], comments=[{("containers", "web"): comment}])
    state = build_desired_state([SpecSource("out.yaml", "/srv", text.encode())], {})
    assert state.containers["web"].environment == values
