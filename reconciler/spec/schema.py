"""The spec format, version 1, as pydantic models: one ``SpecDocument`` per YAML document.

Unknown keys are errors (``extra="forbid"``), never silently dropped. Pure.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from reconciler.labels import PREFIX as RESERVED_LABEL_PREFIX
from reconciler.spec.mount_syntax import (
    NAME_PATTERN,
    NAME_RE,
    PROPAGATIONS,
    is_host_path,
    short_mount_to_fields,
)

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
StrictStr = Annotated[str, Field(strict=True)]
Labels = dict[StrictStr, StrictStr]
Propagation = Literal[PROPAGATIONS]  # type: ignore[valid-type]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


_RESERVED_LABEL_PREFIXES = {
    RESERVED_LABEL_PREFIX: "volplan's ownership records",
    # Docker reserves these namespaces; the live reader ignores com.docker.* labels, so a
    # spec setting one would never converge (a volume would be replaced on every apply).
    "com.docker.": "Docker's internal use",
    "io.docker.": "Docker's internal use",
    "org.dockerproject.": "Docker's internal use",
}


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    for prefix, owner in _RESERVED_LABEL_PREFIXES.items():
        reserved = sorted(k for k in labels if k.startswith(prefix))
        if reserved:
            raise ValueError(
                f"label keys starting with {prefix!r} are reserved for {owner}: "
                f"{', '.join(reserved)}"
            )
    return labels


class MountSpec(_Model):
    """The long mount form; short strings are turned into it before validation."""

    type: Literal["bind", "volume"] | None = None
    source: StrictStr | None = None
    target: StrictStr
    read_only: bool = False
    propagation: Propagation | None = None
    nocopy: bool = False
    create_host_path: bool = False
    selinux: Literal["z", "Z"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_short_form(cls, value: Any) -> Any:
        return short_mount_to_fields(value) if isinstance(value, str) else value

    @field_validator("target")
    @classmethod
    def _absolute_target(cls, target: str) -> str:
        if not target.startswith("/"):
            raise ValueError(f"container path {target!r} must be absolute")
        normalised = posixpath.normpath(target).replace("//", "/")
        if normalised == "/":
            # Docker's linuxValidateNotRoot: "invalid specification: destination can't be '/'"
            raise ValueError(f"container path {target!r} is '/'; nothing can be mounted over it")
        return normalised

    @model_validator(mode="after")
    def _consistent(self) -> MountSpec:
        kind = self.type or ("bind" if self.source and is_host_path(self.source) else "volume")
        if kind == "bind":
            self._check_bind()
        else:
            self._check_volume()
        return self

    def _check_bind(self) -> None:
        if not self.source or not is_host_path(self.source):
            raise ValueError(
                f"a bind mount needs a host path source (absolute, or starting with ./ or ../), "
                f"got {self.source!r}"
            )
        if self.nocopy:
            raise ValueError("'nocopy' applies to volumes only")
        if self.create_host_path and ":" in self.source + self.target:
            # Such a bind goes to the engine as a "SOURCE:TARGET:MODE" string (HostConfig.Binds),
            # where a colon in a value would shift the fields.
            raise ValueError("with create_host_path, source and target cannot contain ':'")
        self._check_binds_form()

    def _check_binds_form(self) -> None:
        """A mount with ``selinux`` goes to the engine in the ``Binds`` string form too (the
        ``Mounts`` form has no relabel option), where a colon would shift the fields."""
        if self.selinux and ":" in (self.source or "") + self.target:
            raise ValueError("with selinux, source and target cannot contain ':'")

    def _check_volume(self) -> None:
        if self.propagation is not None:
            raise ValueError("'propagation' applies to bind mounts only")
        if self.create_host_path:
            raise ValueError("'create_host_path' applies to bind mounts only")
        if self.selinux and self.source is None:
            raise ValueError("'selinux' applies to bind mounts and named volumes only")
        self._check_binds_form()
        if self.source is not None and not NAME_RE.match(self.source):
            hint = f"; for a host directory write './{self.source}'" if "/" in self.source else ""
            raise ValueError(
                f"volume name {self.source!r} is invalid: it must start with a letter or digit "
                f"and hold only letters, digits, '_', '.' and '-' (at least 2 characters){hint}"
            )


def _split_command(value: Any) -> Any:
    return shlex.split(value) if isinstance(value, str) else value


def _environment_from_list(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    pairs = {}
    for item in value:
        if not isinstance(item, str) or "=" not in item:
            raise ValueError(f"environment list items must be 'KEY=VALUE' strings, got {item!r}")
        key, _, val = item.partition("=")
        pairs[key] = val
    return pairs


class VolumeSpec(_Model):
    driver: StrictStr = "local"
    driver_opts: dict[StrictStr, StrictStr] = {}
    labels: Labels = {}
    external: bool = False
    protect: bool = False

    _labels = field_validator("labels")(_check_labels)

    @model_validator(mode="after")
    def _external_has_no_config(self) -> VolumeSpec:
        if self.external and (self.driver != "local" or self.driver_opts or self.labels):
            raise ValueError(
                "an external volume is never created by volplan, so driver, driver_opts and "
                "labels do not apply to it"
            )
        return self


class ContainerSpec(_Model):
    image: Annotated[str, StringConstraints(min_length=1), Field(strict=True)]
    command: Annotated[list[StrictStr] | None, BeforeValidator(_split_command)] = None
    state: Literal["created", "running"] = "running"
    mounts: list[MountSpec] = []
    volumes_from: list[StrictStr] = []
    labels: Labels = {}
    environment: Annotated[dict[StrictStr, StrictStr], BeforeValidator(_environment_from_list)] = {}
    network_mode: StrictStr | None = None
    restart: (
        Annotated[str, StringConstraints(pattern=r"^(no|always|unless-stopped|on-failure(:\d+)?)$")]
        | None
    ) = None
    publish_all: bool = False
    stop_signal: StrictStr | None = None
    stop_timeout: Annotated[int, Field(ge=0)] | None = None
    pull: Literal["missing", "always", "never"] = "missing"

    _labels = field_validator("labels")(_check_labels)

    @field_validator("volumes_from")
    @classmethod
    def _volumes_from_syntax(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            name, _, mode = entry.partition(":")
            if not NAME_RE.match(name) or mode not in {"", "ro", "rw"}:
                raise ValueError(f"{entry!r} is not of the form CONTAINER[:ro|rw]")
        return entries


class SpecDocument(_Model):
    version: Literal[1]
    project: Name
    helper_image: Annotated[str, StringConstraints(min_length=1), Field(strict=True)] | None = None
    """The image of the short-lived containers that copy volume content (--helper-image)."""
    volumes: dict[Name, VolumeSpec] = {}
    containers: dict[Name, ContainerSpec] = {}
