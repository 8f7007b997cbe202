"""The specs as interpolated, printed back as YAML (``validate --show-interpolated``). Pure.

Each file starts with a comment naming it; its documents follow, separated by ``---``.
Keys keep the order of the file.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML


def render_interpolated(files: list[tuple[str, list[Any]]]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.explicit_start = True
    text = io.StringIO()
    for name, documents in files:
        text.write(f"# {name}\n")
        for document in documents:
            yaml.dump(document, text)
    return text.getvalue()
