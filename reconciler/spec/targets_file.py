"""Reading a targets file (``--targets targets.yaml``): the engines one spec set goes to. Pure
but for reading the file.

    version: 1
    targets:
      edge-1:
        host: ssh://ops@edge-1.example   # any DOCKER_HOST form
        labels: {role: edge}             # over the engine's own dockerd --label ones
        variables: {SITE: paris}         # interpolated into the specs for this target
      prod:
        context: prod                    # a docker CLI context
        tls: {ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem}

Every problem points at the file's line and column, as a spec's do. Relative TLS paths are
relative to the targets file's folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from reconciler.errors import Problem, SpecError
from reconciler.model import TlsFiles
from reconciler.spec.config_file import read_one_document
from reconciler.spec.mount_syntax import NAME_PATTERN
from reconciler.spec.positions import problems_from_validation
from reconciler.spec.targets import Target
from reconciler.spec.yaml_source import Document

StrictStr = Annotated[str, Field(strict=True)]
Filled = Annotated[str, StringConstraints(min_length=1), Field(strict=True)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TlsSection(_Section):
    ca: Filled | None = None
    cert: Filled | None = None
    key: Filled | None = None
    verify: bool = True

    @model_validator(mode="after")
    def _pair(self) -> TlsSection:
        if (self.cert is None) != (self.key is None):
            raise ValueError(
                "give both cert and key (a client certificate and its key), or neither"
            )
        return self


class TargetSection(_Section):
    host: Filled | None = None
    context: Filled | None = None
    tls: TlsSection | None = None
    labels: dict[StrictStr, StrictStr] = {}
    variables: dict[StrictStr, StrictStr] = {}

    @model_validator(mode="after")
    def _one_endpoint(self) -> TargetSection:
        if (self.host is None) == (self.context is None):
            raise ValueError("give the engine as either host: (a DOCKER_HOST address) or context:")
        return self


class TargetsDocument(_Section):
    version: Literal[1]
    targets: dict[Annotated[str, StringConstraints(pattern=NAME_PATTERN)], TargetSection]

    @field_validator("targets")
    @classmethod
    def _some(cls, targets: dict[str, TargetSection]) -> dict[str, TargetSection]:
        if not targets:
            raise ValueError("name at least one target")
        return targets


def read_targets(path: Path, chosen: tuple[str, ...] = ()) -> tuple[Target, ...]:
    """The targets of the file at ``path``, in its order; only those ``chosen`` if any are."""
    document = read_one_document(path, "targets", "targets-file")
    try:
        parsed = TargetsDocument.model_validate(document.data)
    except ValidationError as exc:
        raise SpecError(problems_from_validation(document, exc, model_at=_section_at)) from None
    folder = str(path.resolve().parent)
    targets = tuple(
        _target(document, folder, name, section) for name, section in parsed.targets.items()
    )
    unknown = [name for name in chosen if name not in parsed.targets]
    if unknown:
        raise SpecError(
            [
                Problem(
                    document.position_of(("targets",)),
                    "targets",
                    f"no target {name!r} here (--target); the file names "
                    f"{', '.join(parsed.targets)}",
                    "unknown-target",
                )
                for name in unknown
            ]
        )
    return tuple(t for t in targets if not chosen or t.name in chosen)


def _target(document: Document, folder: str, name: str, section: TargetSection) -> Target:
    key = "host" if section.host is not None else "context"
    tls = section.tls
    return Target(
        name=name,
        host=section.host,
        context=section.context,
        origin=document.position_of(("targets", name, key), value=True),
        tls=None
        if tls is None
        else TlsFiles(
            ca=_absolute(folder, tls.ca),
            cert=_absolute(folder, tls.cert),
            key=_absolute(folder, tls.key),
            verify=tls.verify,
        ),
        labels=dict(section.labels),
        variables=dict(section.variables),
    )


def _absolute(folder: str, path: str | None) -> str | None:
    return None if path is None else os.path.join(folder, os.path.expanduser(path))


def _section_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model of the mapping at ``loc``, for "did you mean" suggestions."""
    keys = [str(key) for key in loc]
    if not keys:
        return TargetsDocument
    if keys[0] == "targets" and len(keys) == 2:
        return TargetSection
    if keys[0] == "targets" and len(keys) == 3 and keys[2] == "tls":
        return TlsSection
    return None
