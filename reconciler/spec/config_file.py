"""Reading an operator's one-document YAML file (the policy, a targets file) with positions.

Such a file goes through the spec loader's YAML source, so every later problem found in it
points at its file:line:column exactly as a spec's do.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import Position, Problem, SpecError
from reconciler.spec.files import read_source
from reconciler.spec.yaml_source import Document, parse_documents


def read_one_document(path: Path, what: str, rule: str) -> Document:
    """The one YAML document of ``path``, a ``what`` file; else a ``SpecError`` (``rule``)."""
    if not path.is_file():
        raise SpecError(
            [
                Problem(
                    Position(str(path), 1, 1),
                    "",
                    f"no {what} file here (not found, or not a file)",
                    rule,
                )
            ]
        )
    source = read_source(path)
    documents = parse_documents(source.display_name, source.raw)
    if len(documents) != 1:
        position = documents[1].position_of(()) if documents else Position(str(path), 1, 1)
        raise SpecError(
            [Problem(position, "", f"a {what} file holds exactly one YAML document", rule)]
        )
    return documents[0]
