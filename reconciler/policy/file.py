"""Reading the operator's policy file (``volplan.policy.yaml``) into a ``Policy``.

Which file, if any, is chosen in selection.py.

    version: 1
    host_paths:
      allow: [/srv, /etc/nginx]   # only under these; /etc/nginx lifts the built-in /etc
      deny: [/srv/secrets]        # added to the built-in list
      read_write: false           # read-only binds only
    volumes:
      drivers: [local]
      driver_options: {local: [type, o, device]}
    required_labels:
      volumes: [team]
      containers: [team]
    containers:
      cap_add: [NET_BIND_SERVICE]  # capabilities specs may add (built-in: none)
    variables:
      allow: [APP_*, TAG]          # environment variables specs may read (built-in: all);
                                   # the .env next to the specs is always allowed
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from reconciler.container_options import capability_name
from reconciler.errors import SpecError
from reconciler.policy.rules import DEFAULT_POLICY, LOCAL_DRIVER_OPTIONS, Policy, Rule
from reconciler.spec.config_file import read_one_document
from reconciler.spec.positions import problems_from_validation

StrictStr = Annotated[str, Field(strict=True)]


def _absolute(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"host path {path!r} must be absolute")
    return path


HostPath = Annotated[str, Field(strict=True), AfterValidator(_absolute)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class HostPaths(_Section):
    allow: list[HostPath] = []
    deny: list[HostPath] = []
    read_write: bool = True


class Volumes(_Section):
    drivers: list[StrictStr] = sorted(DEFAULT_POLICY.volume_drivers)
    driver_options: dict[StrictStr, list[StrictStr]] = {"local": sorted(LOCAL_DRIVER_OPTIONS)}


class RequiredLabels(_Section):
    volumes: list[StrictStr] = []
    containers: list[StrictStr] = []


class Containers(_Section):
    cap_add: list[StrictStr] = []


class Variables(_Section):
    allow: list[StrictStr] | None = None


class PolicyDocument(_Section):
    version: Literal[1]
    host_paths: HostPaths = HostPaths()
    volumes: Volumes = Volumes()
    required_labels: RequiredLabels = RequiredLabels()
    containers: Containers = Containers()
    variables: Variables = Variables()


def read_policy(path: Path) -> Policy:
    document = read_one_document(path, "policy", "policy-file")
    try:
        policy = PolicyDocument.model_validate(document.data)
    except ValidationError as exc:
        raise SpecError(problems_from_validation(document, exc, model_at=_section_at)) from None
    return _policy(policy, f"policy {document.file}")


def _policy(document: PolicyDocument, origin: str) -> Policy:
    return Policy(
        deny=DEFAULT_POLICY.deny + tuple(Rule.parse(p, origin) for p in document.host_paths.deny),
        allow=tuple(Rule.parse(p, origin) for p in document.host_paths.allow),
        read_write_binds=document.host_paths.read_write,
        volume_drivers=frozenset(document.volumes.drivers),
        driver_options={
            driver: frozenset(names) for driver, names in document.volumes.driver_options.items()
        },
        required_volume_labels=tuple(document.required_labels.volumes),
        required_container_labels=tuple(document.required_labels.containers),
        capabilities=frozenset(map(capability_name, document.containers.cap_add)),
        variables=tuple(allowed) if (allowed := document.variables.allow) is not None else None,
        source=origin,
    )


def _section_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = PolicyDocument
    for key in loc:
        field = model.model_fields.get(str(key))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model
