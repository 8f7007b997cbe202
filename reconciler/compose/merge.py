"""Several Compose files (``-f a.yml -f b.yml``) -> one, with Compose's merge rules. Pure.

Later files override earlier ones, per field as Compose merges a service (docker-compose's
``merge_service_dicts``, the Compose specification's "Merge and override"): mappings merge
key by key (``environment`` and ``labels`` in list form are mappings too); ``volumes``
and ``devices`` merge by their container path; lists of options (``ports``, ``cap_add``,
``volumes_from``, ``tmpfs``…) are joined without repeats; anything else, ``command`` and
``entrypoint`` included, is replaced whole. The top-level sections merge per name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.compose.source import Items, Tree
from reconciler.errors import Position

_Placed = tuple[Any, Position]
"""A field's value and where it was written."""

_JOINED = frozenset(
    {
        "cap_add",
        "cap_drop",
        "devices_cgroup_rules",
        "dns",
        "dns_search",
        "env_file",
        "expose",
        "external_links",
        "links",
        "ports",
        "security_opt",
        "tmpfs",
        "volumes_from",
    }
)
_MAPPINGS = frozenset(
    {
        "build",
        "depends_on",
        "deploy",
        "environment",
        "extra_hosts",
        "healthcheck",
        "labels",
        "logging",
        "networks",
        "sysctls",
        "ulimits",
    }
)
_BY_PATH = frozenset({"volumes", "devices"})


def merge_files(files: list[Tree]) -> Tree:
    """``files`` merged in order: the first one's top level, overridden by each next one."""
    merged = files[0]
    for override in files[1:]:
        merged = _merge_top(merged, override)
    return merged


def _merge_top(base: Tree, override: Tree) -> Tree:
    result = _copy_tree(base)
    for key, value in override.items():
        if key == "services" and isinstance(value, Tree) and isinstance(base.get(key), Tree):
            result[key] = _per_name(base[key], value, merge_service)
        elif isinstance(value, Tree) and isinstance(base.get(key), Tree):
            result[key] = _per_name(base[key], value, _merge_mapping)
        else:
            result[key] = value
        result.positions[key] = override.at(key)
    return result


def _per_name(base: Tree, override: Tree, merge: Callable[[Any, Any], Any]) -> Tree:
    result = _copy_tree(base)
    for name, value in override.items():
        existing = base.get(name)
        both = isinstance(existing, Tree) and isinstance(value, Tree)
        result[name] = merge(existing, value) if both else value
        # a service or volume is where it was first defined; its fields, where last set
        result.positions[name] = base.at(name) if name in base else override.at(name)
    return result


def merge_service(base: Tree, override: Tree) -> Tree:
    """One service of a later file laid over the same service of an earlier one."""
    result = _copy_tree(base)
    for key, value in override.items():
        result[key] = _merge_field(key, (base.get(key), base.at(key)), (value, override.at(key)))
        result.positions[key] = override.at(key)
    return result


def _merge_field(key: str, placed_base: _Placed, placed_override: _Placed) -> Any:
    base, override = placed_base[0], placed_override[0]
    if base is None:
        return override
    if key in _BY_PATH and isinstance(base, Items) and isinstance(override, Items):
        return _merge_by_path(base, override)
    if key in _JOINED:
        return _join(_as_items(*placed_base), _as_items(*placed_override))
    if key in _MAPPINGS:
        return _merge_mapping(_as_tree(base), _as_tree(override))
    return override


def _merge_mapping(base: Any, override: Any) -> Any:
    if not (isinstance(base, Tree) and isinstance(override, Tree)):
        return override
    result = _copy_tree(base)
    for key, value in override.items():
        result[key] = _merge_mapping(base.get(key), value) if key in base else value
        result.positions[key] = override.at(key)
    return result


def _merge_by_path(base: Items, override: Items) -> Items:
    """Mounts keyed by their container path: a later file's mount at a path replaces it."""
    by_target: dict[str, tuple[Any, Any]] = {}
    for items in (base, override):
        for index, item in enumerate(items):
            by_target[mount_target(item) or f"#{len(by_target)}"] = (item, items.at(index))
    result = Items(override.position)
    for item, position in by_target.values():
        result.add(item, position)
    return result


def mount_target(entry: Any) -> str | None:
    """The container path of a service volume in the short or the long syntax."""
    if isinstance(entry, Tree):
        target = entry.get("target")
        return target if isinstance(target, str) else None
    if isinstance(entry, str):
        parts = entry.split(":")
        if len(parts) == 1 or (len(parts) == 2 and not parts[1].startswith("/")):
            return parts[0]
        return parts[1]
    return None


def _join(base: Items, override: Items) -> Items:
    result = Items(base.position)
    seen: list[Any] = []
    for items in (base, override):
        for index, item in enumerate(items):
            if item not in seen:
                seen.append(item)
                result.add(item, items.at(index))
    return result


def _as_items(value: Any, position: Position) -> Items:
    """A list as it is, a single string (``dns: 1.1.1.1``) as a list of one."""
    if isinstance(value, Items):
        return value
    single = Items(position)
    single.add(value, position)
    return single


def _as_tree(value: Any) -> Any:
    """Compose's list forms of mappings (``- KEY=VALUE``, ``- name``) as mappings."""
    if not isinstance(value, Items):
        return value
    tree = Tree(value.position)
    for index, item in enumerate(value):
        key, equals, rest = str(item).partition("=")
        tree[key] = rest if equals else None
        tree.positions[key] = value.at(index)
    return tree


def _copy_tree(tree: Tree) -> Tree:
    copy = Tree(tree.position)
    copy.update(tree)
    copy.positions.update(tree.positions)
    return copy
