"""A merged Compose project -> one volplan spec document, and what it could not carry. Pure.

Names follow Compose, so that a project Compose already runs is taken over, not duplicated:
a volume is ``<project>_<name>`` (or its ``name:``; an external one its own name), a
container ``<project>-<service>-1`` (``<project>_<service>_1`` with ``compatibility``, as
docker-compose 1 and ``docker compose --compatibility`` name them) or its
``container_name``. Host paths are resolved against the project folder, as Compose
resolves them, and written relative to the folder the spec goes to when under it.

Nothing is dropped without a word: every key volplan cannot express is a ``LeftOut``
with the position it was written at, and the caller decides whether that is an error.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.compose.source import Items, Tree
from reconciler.errors import Position, Problem, SpecError
from reconciler.spec.interpolation import VARIABLE_NAME, Template
from reconciler.spec.mount_syntax import PROPAGATIONS, is_host_path
from reconciler.spec.units import NANOSECONDS, parse_duration

SpecPath = tuple[str | int, ...]


@dataclass(frozen=True)
class LeftOut:
    """A Compose key or value the written spec does not carry."""

    position: Position
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.position}: {self.path}: {self.reason}"


@dataclass(frozen=True)
class Options:
    project: str
    project_dir: str
    output_dir: str
    profiles: frozenset[str] = frozenset()
    compatibility: bool = False


@dataclass
class Imported:
    """The spec document, the comments saying where each item came from, and the rest."""

    document: dict[str, Any]
    comments: dict[SpecPath, str] = field(default_factory=dict)
    origins: dict[SpecPath, Position] = field(default_factory=dict)
    """Where each volume, container and mount of the spec was written in Compose."""
    left_out: list[LeftOut] = field(default_factory=list)
    notes: list[LeftOut] = field(default_factory=list)
    """Things Compose itself would not have used either (an inactive profile, an unset
    variable): said, never counted as left out."""


_TOP_LEVEL_IGNORED = frozenset({"version", "name", "services", "volumes", "networks"})
_DIRECT = {
    key: key
    for key in (
        "hostname",
        "user",
        "working_dir",
        "init",
        "read_only",
        "shm_size",
        "cap_add",
        "cap_drop",
        "ulimits",
        "mem_limit",
        "cpus",
        "pids_limit",
        "restart",
        "stop_signal",
    )
}
"""Compose keys volplan takes as they are (its schema checks their values)."""
_COMMANDS = ("command", "entrypoint")
_MOUNT_FLAGS = {"ro", "rw", "z", "Z", "nocopy", *PROPAGATIONS}
_PULL = {"always": "always", "never": "never", "missing": "missing", "if_not_present": "missing"}


_TEXTS = (str, Items)
_MAPPINGS = (Tree, Items)
_SECTIONS = ("services", "volumes", "networks", "secrets", "configs")
_TOP_SHAPES: dict[str, tuple[type, ...]] = dict.fromkeys(_SECTIONS, (Tree,))
_SERVICE_SHAPES: dict[str, tuple[type, ...]] = {
    "image": (str,),
    "container_name": (str,),
    "command": _TEXTS,
    "entrypoint": _TEXTS,
    "tmpfs": _TEXTS,
    "env_file": _TEXTS,
    "environment": _MAPPINGS,
    "labels": _MAPPINGS,
    "depends_on": _MAPPINGS,
    "networks": _MAPPINGS,
    "volumes": (Items,),
    "volumes_from": (Items,),
    "ports": (Items,),
    "profiles": (Items,),
    "cap_add": (Items,),
    "cap_drop": (Items,),
    "healthcheck": (Tree,),
    "ulimits": (Tree,),
}
_VOLUME_SHAPES: dict[str, tuple[type, ...]] = {
    "driver": (str,),
    "driver_opts": (Tree,),
    "labels": _MAPPINGS,
    "name": (str,),
    "external": (bool, Tree),
}
_SHAPE_WORDS = {str: "a string", Items: "a list", Tree: "a mapping", bool: "true or false"}
"""What Compose's own schema requires of each key's value (a null is taken as absent)."""


def convert_project(compose: Tree, options: Options) -> Imported:
    """The spec of the whole project; ``SpecError`` where Compose itself would refuse it."""
    converter = _Converter(compose, options)
    return converter.run()


class _Converter:
    def __init__(self, compose: Tree, options: Options) -> None:
        self.compose = compose
        self.options = options
        self.problems: list[Problem] = []
        services = compose.get("services")
        self.services: Tree = services if isinstance(services, Tree) else Tree(compose.position)
        self.result = Imported({"version": 1, "project": options.project})
        self.active = self._active_services()
        self.container_names = {name: self._container_name(name) for name in self.active}
        self.volume_names = self._volume_names()

    def run(self) -> Imported:
        if "services" not in self.compose and self.compose:
            # Compose file format 1: services at the top level, long gone from Compose
            raise SpecError(
                [
                    Problem(
                        self.compose.position,
                        "",
                        "no services: section; the Compose file format 1 (services at the "
                        "top level) is not read: put them under services:",
                        "compose",
                    )
                ]
            )
        self._check_shapes()
        if self.problems:
            raise SpecError(self.problems)
        self._top_level_left_out()
        volumes = self._volumes()
        containers = {}
        for name in sorted(self.active):
            container = self._service(name, self.services[name])
            containers[self.container_names[name]] = container
            self._origin(
                ("containers", self.container_names[name]),
                self.services.at(name),
                f"service {name}",
            )
        if self.problems:
            raise SpecError(self.problems)
        if volumes:
            self.result.document["volumes"] = volumes
        if containers:
            self.result.document["containers"] = containers
        return self.result

    # -- the project --------------------------------------------------------------------

    def _active_services(self) -> list[str]:
        """Services without ``profiles``, and those of an enabled profile (Compose's rule)."""
        active = []
        for name, service in self.services.items():
            if not isinstance(service, Tree):
                self._problem(self.services.at(name), f"services.{name}", "must be a mapping")
                continue
            profiles = _strings(service.get("profiles"))
            if profiles and not set(profiles) & self.options.profiles:
                self.result.notes.append(
                    LeftOut(
                        self.services.at(name),
                        f"services.{name}",
                        f"not imported: its profiles ({', '.join(profiles)}) are not enabled "
                        "(--profile)",
                    )
                )
                continue
            active.append(name)
        return active

    def _container_name(self, service: str) -> str:
        explicit = self.services[service].get("container_name")
        if isinstance(explicit, str):
            return explicit
        separator = "_" if self.options.compatibility else "-"
        return f"{self.options.project}{separator}{service}{separator}1"

    def _volume_names(self) -> dict[str, str]:
        """Each declared volume's engine name, as Compose names it."""
        names: dict[str, str] = {}
        for name, config in self._section("volumes").items():
            if isinstance(config, Tree) and _external(config):
                names[name] = _external_name(name, config)
            elif isinstance(config, Tree) and isinstance(config.get("name"), str):
                names[name] = config["name"]
            else:
                names[name] = f"{self.options.project}_{name}"
        return names

    def _section(self, key: str) -> Tree:
        section = self.compose.get(key)
        return section if isinstance(section, Tree) else Tree(self.compose.at(key))

    def _check_shapes(self) -> None:
        """A value of the wrong type is an error, as Compose's schema makes it."""
        self._check(self.compose, "", _TOP_SHAPES)
        for name, volume in self._section("volumes").items():
            if volume is not None:
                self._check(
                    volume, f"volumes.{name}.", _VOLUME_SHAPES, self._section("volumes").at(name)
                )
        for name, service in self.services.items():
            if isinstance(service, Tree):
                self._check(service, f"services.{name}.", _SERVICE_SHAPES)

    def _check(
        self,
        mapping: Any,
        prefix: str,
        shapes: Mapping[str, tuple[type, ...]],
        at: Position | None = None,
    ) -> None:
        if not isinstance(mapping, Tree):
            self._problem(at or self.compose.position, prefix.rstrip("."), "must be a mapping")
            return
        for key, types in shapes.items():
            value = mapping.get(key)
            if value is not None and not isinstance(value, types):
                words = " or ".join(_SHAPE_WORDS[t] for t in types)
                self._problem(mapping.at(key), f"{prefix}{key}", f"must be {words}")

    def _top_level_left_out(self) -> None:
        for key in self.compose:
            if key not in _TOP_LEVEL_IGNORED and not key.startswith("x-"):
                self._leave_out(
                    self.compose.at(key), key, f"volplan has no equivalent of top-level {key}"
                )
        networks = self._section("networks")
        for name, config in networks.items():
            if not _external(config):
                self._leave_out(
                    networks.at(name),
                    f"networks.{name}",
                    "volplan creates no networks (only external ones can be joined)",
                )

    # -- volumes ------------------------------------------------------------------------

    def _volumes(self) -> dict[str, Any]:
        volumes: dict[str, Any] = {}
        section = self._section("volumes")
        for name in sorted(section):
            engine_name = self.volume_names[name]
            config = section[name]
            volumes[engine_name] = self._volume(name, config if isinstance(config, Tree) else None)
            self._origin(("volumes", engine_name), section.at(name), f"volume {name}")
        return volumes

    def _volume(self, name: str, config: Tree | None) -> dict[str, Any]:
        if config is None:
            return {}
        path = f"volumes.{name}"
        if _external(config):
            return {"external": True}
        volume: dict[str, Any] = {}
        for key, value in config.items():
            if key == "driver" and value is not None:
                volume["driver"] = str(value)
            elif key in {"driver_opts", "labels"}:
                values = _mapping(value)
                if values:
                    volume[key] = values
            elif key not in {"name", "external"} and not key.startswith("x-"):
                self._leave_out(config.at(key), f"{path}.{key}", "volplan has no such volume key")
        return volume

    # -- services -----------------------------------------------------------------------

    def _service(self, name: str, service: Tree) -> dict[str, Any]:
        path = f"services.{name}"
        container: dict[str, Any] = {"image": self._image(name, service)}
        handlers: dict[str, Callable[[Any, Position, str], dict[str, Any]]] = {
            "volumes": lambda v, p, q: self._mounts(name, v, p, q),
            "volumes_from": self._volumes_from,
            "environment": self._environment,
            "labels": lambda v, _p, _q: {"labels": _mapping(v)},
            "network_mode": self._network_mode,
            "networks": self._networks,
            "depends_on": self._depends_on,
            "env_file": self._env_file,
            "healthcheck": self._healthcheck,
            "ports": self._ports,
            "stop_grace_period": self._stop_grace_period,
            "pull_policy": self._pull_policy,
            "scale": self._scale,
            "tmpfs": self._tmpfs,
        }
        for key, value in service.items():
            at, key_path = service.at(key), f"{path}.{key}"
            if key in {"image", "container_name", "profiles"} or key.startswith("x-"):
                continue
            if key in _DIRECT:
                container[_DIRECT[key]] = _plain(value)
            elif key in _COMMANDS:
                container[key] = value if isinstance(value, str) else _strings(value)
            elif key in handlers:
                converted = handlers[key](value, at, key_path)
                tmpfs = {**container.get("tmpfs", {}), **converted.pop("tmpfs", {})}
                container.update(converted, **({"tmpfs": tmpfs} if tmpfs else {}))
            elif key == "build" and "image" in service:
                self._leave_out(at, key_path, "volplan builds no images; the image is used as is")
            elif key == "build":
                self._leave_out(
                    at, key_path, f"volplan builds no images; the spec names {container['image']}"
                )
            elif key == "extends":
                self._leave_out(at, key_path, "volplan does not follow extends; write it out")
            else:
                self._leave_out(at, key_path, "volplan has no equivalent")
        if "volumes_from" in container:
            self._origin(
                ("containers", self.container_names[name], "volumes_from"),
                service.at("volumes_from"),
            )
        return {k: v for k, v in container.items() if v not in ({}, [])}

    def _image(self, name: str, service: Tree) -> str:
        image = service.get("image")
        if isinstance(image, str) and image:
            return image
        if "build" not in service:
            self._problem(
                service.position, f"services.{name}", "has neither an image nor a build context"
            )
            return "missing"
        separator = "_" if self.options.compatibility else "-"
        return f"{self.options.project}{separator}{name}"

    def _mounts(self, service: str, value: Any, at: Position, path: str) -> dict[str, Any]:
        if not isinstance(value, Items):
            self._problem(at, path, "must be a list")
            return {}
        mounts: list[Any] = []
        tmpfs: dict[str, str] = {}
        for index, entry in enumerate(value):
            item_at, item_path = value.at(index), f"{path}[{index}]"
            if isinstance(entry, Tree) and entry.get("type") == "tmpfs":
                tmpfs.update(self._tmpfs_mount(entry, item_at, item_path))
                continue
            mount = self._mount(entry, item_at, item_path)
            if mount is not None:
                spec_path = ("containers", self.container_names[service], "mounts", len(mounts))
                self._origin(spec_path, item_at)
                mounts.append(mount)
        return {"mounts": mounts, "tmpfs": tmpfs} if tmpfs else {"mounts": mounts}

    def _mount(self, entry: Any, at: Position, path: str) -> Any:
        fields = self._short_mount(entry, at, path) if isinstance(entry, str) else None
        if isinstance(entry, Tree):
            fields = self._long_mount(entry, at, path)
        if fields is None:
            if not isinstance(entry, str | Tree):
                self._problem(at, path, "a service volume is a string or a mapping")
            return None
        return _compact(fields)

    def _short_mount(self, entry: str, at: Position, path: str) -> dict[str, Any] | None:
        parts = entry.split(":")
        if len(parts) > 3 or not all(parts):
            self._problem(at, path, f"{entry!r} is not of the form [SOURCE:]TARGET[:MODE]")
            return None
        if len(parts) == 1 or (len(parts) == 2 and not parts[1].startswith("/")):
            source, target, mode = "", parts[0], parts[1] if len(parts) == 2 else ""
        else:
            source, target, mode = parts[0], parts[1], parts[2] if len(parts) == 3 else ""
        fields: dict[str, Any] = {"target": target}
        if source:
            fields.update(self._source(source, at, path))
        for flag in mode.split(",") if mode else []:
            if flag not in _MOUNT_FLAGS:
                self._leave_out(at, path, f"mount mode {flag!r} has no effect on Linux; left out")
            elif flag in {"ro", "rw"}:
                fields["read_only"] = flag == "ro"
            elif flag in {"z", "Z"}:
                fields["selinux"] = flag
            elif flag == "nocopy":
                fields["nocopy"] = True
            else:
                fields["propagation"] = flag
        if fields.get("type") == "bind":
            # Compose's short syntax creates a missing host directory (the engine's Binds)
            fields["create_host_path"] = True
        return fields

    def _source(self, source: str, at: Position, path: str) -> dict[str, Any]:
        if is_host_path(source) or source.startswith("~"):
            return {"type": "bind", "source": self._host_path(source)}
        if source not in self.volume_names:
            self._problem(
                at,
                path,
                f"named volume {source!r} is used but not declared in the top-level volumes",
            )
            return {"type": "volume", "source": source}
        return {"type": "volume", "source": self.volume_names[source]}

    def _long_mount(self, entry: Tree, at: Position, path: str) -> dict[str, Any] | None:
        kind = entry.get("type")
        target = entry.get("target")
        if not isinstance(target, str) or not isinstance(entry.get("source", ""), str):
            self._problem(at, path, "a mount needs a target, and a source that is a string")
            return None
        if kind not in {"bind", "volume"}:
            self._leave_out(at, path, f"mount type {kind!r} is not one volplan can make")
            return None
        fields: dict[str, Any] = {"target": target}
        source = entry.get("source")
        if isinstance(source, str) and source and kind == "bind":
            relative = is_host_path(source) or source.startswith("~")
            fields.update(
                type="bind", source=self._host_path(source if relative else "./" + source)
            )
        elif isinstance(source, str) and source:
            fields.update(self._source(source, at, path))
        elif kind == "bind":
            self._problem(at, path, "a bind mount needs a source")
            return None
        for key, value in entry.items():
            self._long_mount_key(fields, key, value, entry.at(key), f"{path}.{key}")
        return fields

    def _long_mount_key(
        self, fields: dict[str, Any], key: str, value: Any, at: Position, path: str
    ) -> None:
        if key in {"type", "source", "target"} or key.startswith("x-"):
            return
        if key == "read_only":
            fields["read_only"] = bool(value)
            return
        known = {"bind": ("propagation", "create_host_path", "selinux"), "volume": ("nocopy",)}
        if key in known and isinstance(value, Tree):
            for option, setting in value.items():
                if option in known[key]:
                    fields[option] = setting
                else:
                    self._leave_out(
                        value.at(option), f"{path}.{option}", "volplan has no such option"
                    )
            return
        self._leave_out(at, path, "volplan has no such mount option")

    def _tmpfs_mount(self, entry: Tree, at: Position, path: str) -> dict[str, str]:
        target = entry.get("target")
        if not isinstance(target, str):
            self._problem(at, path, "a tmpfs mount needs a target")
            return {}
        options = []
        settings = entry.get("tmpfs")
        settings = settings if isinstance(settings, Tree) else Tree(at)
        for key, value in settings.items():
            if key == "size":
                options.append(f"size={value}")
            elif key == "mode":
                options.append(f"mode={value:o}" if isinstance(value, int) else f"mode={value}")
            else:
                self._leave_out(
                    settings.at(key), f"{path}.tmpfs.{key}", "volplan has no such option"
                )
        for key in entry:
            if key not in {"type", "target", "tmpfs", "read_only"}:
                self._leave_out(entry.at(key), f"{path}.{key}", "volplan has no such tmpfs key")
        if entry.get("read_only"):
            options.append("ro")
        return {target: ",".join(options)}

    def _host_path(self, source: str) -> str:
        """A host path as the spec in the output folder writes it. Compose resolves it
        against the project folder (``~``: the home folder); one inside the project folder
        is written relative to the output folder, so the two move together."""
        absolute = self._absolute(source)
        inside = posixpath.relpath(absolute, self.options.project_dir)
        if inside.startswith(".."):
            return absolute
        relative = posixpath.relpath(absolute, self.options.output_dir)
        return relative if relative.startswith("..") or relative == "." else "./" + relative

    def _absolute(self, source: str) -> str:
        expanded = os.path.expanduser(source) if source.startswith("~") else source
        return posixpath.normpath(posixpath.join(self.options.project_dir, expanded))

    def _volumes_from(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        entries = []
        by_container_name = {c: s for s, c in self.container_names.items()}
        for index, entry in enumerate(_strings(value)):
            item_at = value.at(index) if isinstance(value, Items) else at
            source, _, mode = entry.removeprefix("container:").partition(":")
            if entry.startswith("container:") and source not in by_container_name:
                self._leave_out(
                    item_at,
                    f"{path}[{index}]",
                    f"container {source!r} is not one of this project's: volplan takes volumes "
                    "only from containers its specs declare",
                )
                continue
            if not entry.startswith("container:"):
                if source not in self.services:
                    self._problem(item_at, f"{path}[{index}]", f"no service named {source!r}")
                    continue
                if source not in self.container_names:
                    self._problem(item_at, f"{path}[{index}]", f"service {source!r} is not enabled")
                    continue
                source = self.container_names[source]
            entries.append(f"{source}:{mode}" if mode else source)
        return {"volumes_from": entries}

    def _environment(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        environment: dict[str, str] = {}
        for key, item in _mapping_with_unset(value).items():
            if item is not None:
                environment[key] = item
                continue
            if not VARIABLE_NAME.match(key):
                self.result.notes.append(
                    LeftOut(at, f"{path}.{key}", "no variable can have that name: left unset")
                )
                continue
            # Compose takes a bare KEY from the environment when it makes the container;
            # the spec reads it when it is loaded, and no value is copied into the file
            environment[key] = Template(f"${{{key}}}")
            self.result.notes.append(
                LeftOut(at, f"{path}.{key}", f"written as ${{{key}}}: read from the environment")
            )
        return {"environment": environment}

    def _network_mode(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        mode = str(value)
        if mode.startswith("service:"):
            service = mode.removeprefix("service:")
            if service not in self.container_names:
                self._problem(at, path, f"no enabled service named {service!r}")
                return {}
            mode = "container:" + self.container_names[service]
        return {"network_mode": mode}

    def _networks(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        declared = self._section("networks")
        joined: dict[str, Any] = {}
        for name, config in _mapping_with_unset(value, keep_trees=True).items():
            network = declared.get(name)
            if not isinstance(network, Tree) or not _external(network):
                self._leave_out(
                    at, f"{path}.{name}", "volplan creates no networks; only external ones"
                )
                continue
            engine_name = _external_name(name, network)
            aliases = config.get("aliases") if isinstance(config, Tree) else None
            joined[engine_name] = {"aliases": _strings(aliases)} if aliases else None
            for key in config if isinstance(config, Tree) else []:
                if key != "aliases":
                    self._leave_out(
                        config.at(key), f"{path}.{name}.{key}", "volplan has no such option"
                    )
        return {"networks": joined}

    def _depends_on(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        dependencies: dict[str, Any] = {}
        for name, config in _mapping_with_unset(value, keep_trees=True).items():
            if name not in self.container_names:
                self._problem(at, f"{path}.{name}", f"no enabled service named {name!r}")
                continue
            condition = config.get("condition") if isinstance(config, Tree) else None
            dependencies[self.container_names[name]] = {"condition": condition} if condition else {}
            for key in config if isinstance(config, Tree) else []:
                if key != "condition":
                    self._leave_out(
                        config.at(key), f"{path}.{name}.{key}", "volplan has no such option"
                    )
        return {"depends_on": dependencies}

    def _env_file(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        files = []
        for index, entry in enumerate(value if isinstance(value, Items) else [value]):
            name = entry.get("path") if isinstance(entry, Tree) else entry
            if not isinstance(name, str):
                self._problem(at, f"{path}[{index}]", "an env_file is a path")
                continue
            if isinstance(entry, Tree) and entry.get("required") is False:
                self._leave_out(at, f"{path}[{index}].required", "volplan requires every env_file")
            if not os.path.isfile(self._absolute(name)):
                # Compose refuses it too ("Couldn't find env file"), at config time
                self._problem(at, f"{path}[{index}]", f"env file {name!r} does not exist")
            files.append(self._host_path(name))
        return {"env_file": files}

    def _healthcheck(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        if not isinstance(value, Tree):
            self._problem(at, path, "must be a mapping")
            return {}
        check: dict[str, Any] = {}
        for key, item in value.items():
            if key in {"test", "interval", "timeout", "retries", "start_period", "disable"}:
                check[key] = item if key != "test" or isinstance(item, str) else _strings(item)
            else:
                self._leave_out(value.at(key), f"{path}.{key}", "volplan has no such option")
        return {"healthcheck": check}

    def _ports(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        ports: list[str | int] = []
        for index, entry in enumerate(value if isinstance(value, Items) else [value]):
            if isinstance(entry, Tree):
                ports.append(_long_port(entry))
            elif isinstance(entry, int | str):
                ports.append(entry)
            else:
                self._problem(at, f"{path}[{index}]", "a port is a string, a number or a mapping")
        return {"ports": ports}

    def _tmpfs(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        """``PATH[:OPTIONS]`` or a list of them, as a mapping beside the long syntax's."""
        mounts = {}
        for entry in _strings(value):
            target, _, options = entry.partition(":")
            mounts[target] = options
        return {"tmpfs": mounts}

    def _stop_grace_period(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        try:
            nanoseconds = parse_duration(str(value))
        except ValueError as exc:
            self._problem(at, path, str(exc))
            return {}
        seconds, rest = divmod(nanoseconds, NANOSECONDS["s"])
        if rest:
            self._leave_out(at, path, f"volplan stops in whole seconds: {seconds + 1}s is used")
            seconds += 1
        return {"stop_timeout": seconds}

    def _pull_policy(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        if value in _PULL:
            return {"pull": _PULL[value]}
        self._leave_out(at, path, f"pull_policy {value!r} has no volplan equivalent")
        return {}

    def _scale(self, value: Any, at: Position, path: str) -> dict[str, Any]:
        if value != 1:
            self._leave_out(at, path, "volplan runs one container per service")
        return {}

    # -- reporting ----------------------------------------------------------------------

    def _origin(self, path: SpecPath, at: Position, what: str = "") -> None:
        self.result.origins[path] = at
        self.result.comments[path] = f"{what} ({at})" if what else f"from {at}"

    def _leave_out(self, at: Position, path: str, reason: str) -> None:
        self.result.left_out.append(LeftOut(at, path, reason))

    def _problem(self, at: Position, path: str, message: str) -> None:
        self.problems.append(Problem(at, path, message, "compose"))


def _external(config: Any) -> bool:
    return isinstance(config, Tree) and bool(config.get("external"))


def _external_name(name: str, config: Tree) -> str:
    external = config.get("external")
    if isinstance(external, Tree) and isinstance(external.get("name"), str):
        return str(external["name"])
    return str(config.get("name") or name)


def _plain(value: Any) -> Any:
    """Tree and Items as the dicts and lists the writer takes."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _scalar(value: Any) -> str:
    """A value as Compose passes it to the engine: numbers and booleans as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [_scalar(v) for v in value] if isinstance(value, list) else [_scalar(value)]


def _mapping(value: Any) -> dict[str, str]:
    """``{KEY: VALUE}`` or ``[KEY=VALUE, …]`` as text; a bare ``KEY`` is empty."""
    return {k: v or "" for k, v in _mapping_with_unset(value).items()}


def _mapping_with_unset(value: Any, *, keep_trees: bool = False) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {
            str(k): v if v is None or (keep_trees and isinstance(v, Tree)) else _scalar(v)
            for k, v in value.items()
        }
    pairs: dict[str, Any] = {}
    for item in value if isinstance(value, list) else []:
        key, equals, rest = str(item).partition("=")
        pairs[key] = rest if equals else None
    return pairs


def _long_port(entry: Tree) -> str:
    """A port's long syntax in the short one: ``[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]``."""
    text = str(entry.get("target", ""))
    if entry.get("published") is not None:
        text = f"{entry['published']}:{text}"
        if entry.get("host_ip"):
            text = f"{entry['host_ip']}:{text}"
    protocol = entry.get("protocol")
    return f"{text}/{protocol}" if protocol else text


def _compact(fields: dict[str, Any]) -> Any:
    """The short string where it says everything (``name:/path:ro``), else the mapping."""
    if fields.get("create_host_path") or ":" in fields.get("source", "") + fields["target"]:
        return fields
    flags = [
        flag
        for flag in (
            "ro" if fields.get("read_only") else "",
            fields.get("selinux", ""),
            fields.get("propagation", ""),
            "nocopy" if fields.get("nocopy") else "",
        )
        if flag
    ]
    text = ":".join(p for p in (fields.get("source", ""), fields["target"]) if p)
    return f"{text}:{','.join(flags)}" if flags else text
