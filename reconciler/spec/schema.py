"""The spec format, version 1, as pydantic models: one ``SpecDocument`` per YAML document.

Unknown keys are errors (``extra="forbid"``), never silently dropped. The JSON Schema
editors check specs against is generated from these models (json_schema.py): every
before-validator that accepts a shorthand (a command as a string, a mount as
``SOURCE:TARGET``) names that input type too, so the schema accepts what the loader does.
Pure.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from reconciler.labels import PREFIX as RESERVED_LABEL_PREFIX
from reconciler.spec.mount_syntax import (
    NAME_PATTERN,
    NAME_RE,
    PROPAGATIONS,
    is_host_path,
    short_mount_to_fields,
)
from reconciler.spec.ports import check_port
from reconciler.spec.units import DURATION_PATTERN, SIZE_PATTERN, parse_bytes, parse_duration

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


RESERVED_LABELS_SCHEMA: JsonDict = {
    "propertyNames": {
        "not": {
            "pattern": "^("
            + "|".join(p.replace(".", "\\.") for p in _RESERVED_LABEL_PREFIXES)
            + ")"
        }
    }
}
"""``_check_labels`` in the JSON Schema: editors flag a reserved key as it is typed."""


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    for prefix, owner in _RESERVED_LABEL_PREFIXES.items():
        reserved = sorted(k for k in labels if k.startswith(prefix))
        if reserved:
            raise ValueError(
                f"label keys starting with {prefix!r} are reserved for {owner}: "
                f"{', '.join(reserved)}"
            )
    return labels


def _from_short_form(value: Any) -> Any:
    return short_mount_to_fields(value) if isinstance(value, str) else value


class MountSpec(_Model):
    """A mount in the long form; a string in the short form (``SOURCE:TARGET[:FLAGS]``, or
    a path alone for an anonymous volume) is turned into it before validation."""

    type: Literal["bind", "volume"] | None = None
    source: StrictStr | None = None
    target: StrictStr = Field(json_schema_extra={"pattern": "^/"})
    read_only: bool = False
    propagation: Propagation | None = None
    nocopy: bool = False
    create_host_path: bool = False
    selinux: Literal["z", "Z"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return _from_short_form(value)

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


Mount = Annotated[
    MountSpec, BeforeValidator(_from_short_form, json_schema_input_type=StrictStr | MountSpec)
]
"""A mount in either form. MountSpec reads the short form itself too (for direct use); the
field's validator is what tells the JSON Schema that a string is accepted here."""


def _split_command(value: Any) -> Any:
    return shlex.split(value) if isinstance(value, str) else value


Command = Annotated[
    list[StrictStr] | None,
    BeforeValidator(_split_command, json_schema_input_type=list[StrictStr] | StrictStr | None),
]
"""A list, or a string split as a shell would split it (never run by one)."""


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


_EXTERNAL_HAS_NO_CONFIG: JsonDict = {
    "if": {"properties": {"external": {"const": True}}, "required": ["external"]},
    "then": {
        "properties": {
            "driver": {"const": "local"},
            "driver_opts": {"maxProperties": 0},
            "labels": {"maxProperties": 0},
        }
    },
}
"""``_external_has_no_config`` in the JSON Schema."""


class VolumeSpec(_Model):
    model_config = ConfigDict(json_schema_extra=_EXTERNAL_HAS_NO_CONFIG)

    driver: StrictStr = "local"
    driver_opts: dict[StrictStr, StrictStr] = {}
    labels: Labels = Field(default={}, json_schema_extra=RESERVED_LABELS_SCHEMA)
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


def _one_or_many(value: Any) -> Any:
    """Compose takes a single string where a list of strings is expected."""
    return [value] if isinstance(value, str) else value


def _tmpfs_mapping(value: Any) -> Any:
    """``PATH[:OPTIONS]`` strings (Compose's form) -> {path: options}."""
    value = _one_or_many(value)
    if not isinstance(value, list):
        return value
    mounts: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"tmpfs entries are 'PATH[:OPTIONS]' strings, got {item!r}")
        path, _, options = item.partition(":")
        if not path.startswith("/"):
            raise ValueError(f"tmpfs path {path!r} must be absolute")
        mounts[posixpath.normpath(path)] = options
    return mounts


def _size(value: Any) -> Any:
    return parse_bytes(value) if isinstance(value, int | str) and value is not True else value


def _cpus(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"cpus {value!r} is not a number") from None
    return value


def _duration(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"write {value} with a unit, such as {value}s (a Compose duration)")
    return parse_duration(value) if isinstance(value, str) else value


Bytes = Annotated[
    int,
    BeforeValidator(
        _size,
        json_schema_input_type=Annotated[int, Field(ge=0)]
        | Annotated[str, StringConstraints(pattern=SIZE_PATTERN)],
    ),
]
"""Bytes, or a size with a unit as Compose writes them: ``64m``, ``1gb``."""
Duration = Annotated[
    Annotated[int, Field(ge=0)],
    BeforeValidator(
        _duration,
        json_schema_input_type=Annotated[str, StringConstraints(pattern=DURATION_PATTERN)],
    ),
]
"""Nanoseconds, written as Compose writes durations: ``30s``, ``1m30s``."""
_CAPABILITY = r"^(?i:(CAP_)?[A-Z_]+)$"


class HealthcheckSpec(_Model):
    """Compose's healthcheck; ``test`` as a string runs in a shell (``CMD-SHELL``)."""

    test: list[StrictStr] | StrictStr | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    retries: Annotated[int, Field(ge=0)] | None = None
    start_period: Duration | None = None
    disable: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> HealthcheckSpec:
        if self.disable and self.model_fields_set - {"disable"}:
            raise ValueError("a disabled healthcheck takes no other key")
        if isinstance(self.test, list) and (
            not self.test or self.test[0] not in {"NONE", "CMD", "CMD-SHELL"}
        ):
            raise ValueError("a test list starts with NONE, CMD or CMD-SHELL")
        return self


class UlimitSpec(_Model):
    soft: Annotated[int, Field(ge=-1)]
    hard: Annotated[int, Field(ge=-1)]


class NetworkSpec(_Model):
    aliases: list[StrictStr] = []


class DependencySpec(_Model):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = (
        "service_started"
    )


def _dependencies_mapping(value: Any) -> Any:
    """Compose's list of names -> the mapping form; a name alone waits for its start."""
    return {name: {} for name in value} if isinstance(value, list) else value


def _networks_mapping(value: Any) -> Any:
    """Compose's list of names -> the mapping form, {name: None}."""
    return dict.fromkeys(value) if isinstance(value, list) else value


_VOLUMES_FROM_PATTERN = NAME_PATTERN.rstrip("$") + "(:(ro|rw))?$"


class ContainerSpec(_Model):
    image: Annotated[str, StringConstraints(min_length=1), Field(strict=True)]
    command: Command = None
    state: Literal["created", "running"] = "running"
    mounts: list[Mount] = []
    volumes_from: list[
        Annotated[StrictStr, Field(json_schema_extra={"pattern": _VOLUMES_FROM_PATTERN})]
    ] = []
    labels: Labels = Field(default={}, json_schema_extra=RESERVED_LABELS_SCHEMA)
    environment: Annotated[
        dict[StrictStr, StrictStr],
        BeforeValidator(
            _environment_from_list,
            json_schema_input_type=dict[StrictStr, StrictStr] | list[StrictStr],
        ),
    ] = {}
    network_mode: StrictStr | None = None
    restart: (
        Annotated[str, StringConstraints(pattern=r"^(no|always|unless-stopped|on-failure(:\d+)?)$")]
        | None
    ) = None
    publish_all: bool = False
    stop_signal: StrictStr | None = None
    stop_timeout: Annotated[int, Field(ge=0)] | None = None
    entrypoint: Command = None
    user: StrictStr | None = None
    working_dir: StrictStr | None = None
    hostname: StrictStr | None = None
    init: bool | None = None
    read_only: bool = False
    shm_size: Bytes | None = None
    tmpfs: Annotated[
        dict[StrictStr, StrictStr],
        BeforeValidator(
            _tmpfs_mapping,
            json_schema_input_type=dict[StrictStr, StrictStr] | list[StrictStr] | StrictStr,
        ),
    ] = {}
    cap_add: list[Annotated[str, StringConstraints(pattern=_CAPABILITY)]] = []
    cap_drop: list[Annotated[str, StringConstraints(pattern=_CAPABILITY)]] = []
    ulimits: dict[Name, UlimitSpec | Annotated[int, Field(ge=-1)]] = {}
    mem_limit: Bytes | None = None
    cpus: (
        Annotated[
            float,
            BeforeValidator(_cpus, json_schema_input_type=Annotated[float, Field(gt=0)] | str),
        ]
        | None
    ) = None
    pids_limit: Annotated[int, Field(ge=-1)] | None = None
    healthcheck: HealthcheckSpec | None = None
    env_file: Annotated[
        list[StrictStr],
        BeforeValidator(_one_or_many, json_schema_input_type=list[StrictStr] | StrictStr),
    ] = []
    ports: list[Annotated[StrictStr | int, AfterValidator(check_port)]] = []
    networks: Annotated[
        dict[Name, NetworkSpec | None],
        BeforeValidator(
            _networks_mapping, json_schema_input_type=dict[Name, NetworkSpec | None] | list[Name]
        ),
    ] = {}
    depends_on: Annotated[
        dict[Name, DependencySpec],
        BeforeValidator(
            _dependencies_mapping,
            json_schema_input_type=dict[Name, DependencySpec] | list[Name],
        ),
    ] = {}
    pull: Literal["missing", "always", "never"] = "missing"

    _labels = field_validator("labels")(_check_labels)

    @field_validator("working_dir")
    @classmethod
    def _absolute_working_dir(cls, path: str | None) -> str | None:
        if path is not None and not path.startswith("/"):
            raise ValueError(f"working_dir {path!r} must be absolute")
        return path

    @model_validator(mode="after")
    def _network_choice(self) -> ContainerSpec:
        if self.networks and self.network_mode is not None:
            raise ValueError("networks and network_mode cannot both be set (as in Compose)")
        clash = sorted(set(self.tmpfs) & {m.target for m in self.mounts})
        if clash:
            raise ValueError(f"tmpfs and a mount at the same path: {', '.join(clash)}")
        return self

    @field_validator("volumes_from")
    @classmethod
    def _volumes_from_syntax(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            name, _, mode = entry.partition(":")
            if not NAME_RE.match(name) or mode not in {"", "ro", "rw"}:
                raise ValueError(f"{entry!r} is not of the form CONTAINER[:ro|rw]")
        return entries


class TargetsSpec(_Model):
    """Where a document's project goes: only to engines (targets) carrying all these labels,
    an engine's own ``dockerd --label`` ones overlaid by the targets file's (placement.py)."""

    labels: Labels = {}


class SpecDocument(_Model):
    version: Literal[1]
    project: Name
    targets: TargetsSpec | None = None
    helper_image: Annotated[str, StringConstraints(min_length=1), Field(strict=True)] | None = None
    """The image of the short-lived containers that copy volume content (--helper-image)."""
    volumes: dict[Name, VolumeSpec] = {}
    containers: dict[Name, ContainerSpec] = {}
