"""The host-path policy: which binds, volume drivers and labels a spec may ask for. Pure.

Whoever can apply a spec controls the Docker engine, which is root on the host: one bind
mount of ``/``, ``/etc`` or the engine's socket hands the host over. So every way a spec
can reach a host path is checked, not only plain bind mounts: a ``local`` volume whose
driver options bind a host directory, and mounts inherited through ``volumes_from``.

Rules, most specific first:

- a denied path refuses binds of itself, of anything under it, and of any ancestor
  (binding ``/var`` exposes ``/var/run/docker.sock``), so ``/`` is always refused;
- an allowed path as specific as a denied one lifts that denial for what lies under it
  (``allow: [/etc/nginx]`` against the built-in ``/etc``); an ancestor bind is lifted only
  by allowing the denied path itself;
- with an allow list, binds outside every allowed path are refused.

Paths are compared after normalisation (what the engine will mount) and, given a
``resolve`` function (a local engine), again after following symlinks on the host, against
the rules resolved the same way. Every violation is reported, not only the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from reconciler.errors import Position, Problem
from reconciler.memo import by_identity
from reconciler.model import (
    DesiredContainer,
    DesiredState,
    DesiredVolume,
    MountKind,
    Origin,
    VariableUse,
)
from reconciler.policy.hostpaths import Parts, PathPattern, Resolve, split
from reconciler.spec.mount_syntax import normalise_host_path
from reconciler.spec.system_paths import DEFAULT_DENY

BUILT_IN = "the built-in policy"


LOCAL_DRIVER_OPTIONS = frozenset({"type", "o", "device"})
_BIND_FLAGS = frozenset({"bind", "rbind"})


@dataclass(frozen=True)
class Rule:
    """One allowed or denied path pattern and the policy it comes from, for messages."""

    pattern: PathPattern
    origin: str

    @classmethod
    def parse(cls, text: str, origin: str) -> Rule:
        return cls(PathPattern.parse(text), origin)


@dataclass(frozen=True)
class Policy:
    """What specs may ask of the host. The defaults are the built-in, secure policy."""

    deny: tuple[Rule, ...] = tuple(Rule.parse(path, BUILT_IN) for path in DEFAULT_DENY)
    allow: tuple[Rule, ...] = ()
    """Empty: any path not denied. Otherwise binds must lie under one of these."""
    read_write_binds: bool = True
    volume_drivers: frozenset[str] = frozenset({"local"})
    driver_options: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: {"local": LOCAL_DRIVER_OPTIONS}
    )
    """Option names allowed per driver; a driver missing here may take any option."""
    required_volume_labels: tuple[str, ...] = ()
    required_container_labels: tuple[str, ...] = ()
    capabilities: frozenset[str] = frozenset()
    """Capabilities a spec may ``cap_add``; none by default, as each weakens isolation."""
    variables: tuple[str, ...] | None = None
    """Name patterns of the environment variables specs may read; None: all (as Compose).
    Values from the ``.env`` next to the specs are always allowed."""
    source: str = BUILT_IN

    def denying(self, path: str, why: str) -> Policy:
        """This policy with one more denied path, such as the managed engine's own socket."""
        return replace(self, deny=(*self.deny, Rule.parse(path, why)))


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class HostBind:
    """A host path a spec makes reachable from a container, and where the spec says so."""

    source: str
    read_only: bool
    position: Position
    address: str
    what: str = "bind source"
    via: str = ""
    """How an inherited bind arrives: `` (at /data through volumes_from db)``."""

    @property
    def shown(self) -> str:
        return f"{self.what} {self.source}{self.via}"


def check_policy(
    desired: DesiredState, policy: Policy, resolve: Resolve | None = None
) -> list[Problem]:
    """Every policy violation in ``desired``; ``resolve`` follows host symlinks when given."""
    problems = [
        problem for bind in _all_binds(desired) for problem in _bind_problems(bind, policy, resolve)
    ]
    for volume in desired.volumes.values():
        if not volume.external:
            problems += _volume_problems(volume, policy)
    for container in desired.containers.values():
        if policy.required_container_labels:
            problems += _missing_labels(
                container.labels,
                policy.required_container_labels,
                container.origin,
                f"containers.{container.name}",
                policy,
            )
        if container.options.cap_add:
            problems += _capability_problems(container, policy)
    problems += _variable_problems(desired.variables, policy)
    return sorted(problems, key=lambda problem: (problem.position, problem.path))


@by_identity
def _all_binds(desired: DesiredState) -> tuple[HostBind, ...]:
    """``host_binds``, found once per desired state: a fleet checks one against the policy
    of each target's engine."""
    return tuple(host_binds(desired))


def host_binds(desired: DesiredState) -> Iterator[HostBind]:
    """Every host path the desired state reaches: binds, volume device binds, inherited binds."""
    for volume in desired.volumes.values():
        device = volume_device_bind(volume)
        if device is not None:
            yield HostBind(
                device[0],
                device[1],
                volume.origin,
                f"volumes.{volume.name}.driver_opts.device",
                what="driver_opts device",
            )
    for container in desired.containers.values():
        for mount in container.mounts:
            if mount.kind is MountKind.BIND and mount.source is not None:
                address = f"mounts[{mount.target}]"
                yield HostBind(
                    normalise_host_path(mount.source),
                    mount.read_only,
                    container.origin_of(address),
                    f"containers.{container.name}.{address}",
                )
        yield from _inherited_binds(container, desired.containers)
        for index, path in enumerate(container.options.env_file):
            yield HostBind(
                path,
                True,
                container.origin_of("env_file"),
                f"containers.{container.name}.env_file[{index}]",
                what="env_file",
            )


def volume_device_bind(volume: DesiredVolume) -> tuple[str, bool] | None:
    """(host path, read-only) when a ``local`` volume's options mount a host path.

    ``o: bind`` (or ``type: none``) makes ``device`` a bind source, resolved by the engine
    from ``/`` when relative; an absolute ``device`` otherwise is a host block device or
    file. ``//server/share`` is a network share, not a host path.
    """
    options = volume.driver_opts
    device = options.get("device")
    if volume.driver != "local" or not device:
        return None
    flags = set(options.get("o", "").split(","))
    is_bind = bool(flags & _BIND_FLAGS) or options.get("type") == "none"
    if not is_bind and (not device.startswith("/") or device.startswith("//")):
        return None
    return normalise_host_path("/" + device), "ro" in flags


def _inherited_binds(
    container: DesiredContainer, containers: Mapping[str, DesiredContainer]
) -> Iterator[HostBind]:
    """Binds reaching ``container`` through ``volumes_from``, followed transitively.

    Docker copies the source's mount points, read-only if the source's or the link's is.
    """
    for link in container.volumes_from:
        address = f"volumes_from[{link.container}]"
        seen = {container.name}
        pending = [(link.container, link.read_only, link.container)]
        while pending:
            name, read_only, chain = pending.pop()
            source = containers.get(name)
            if source is None or name in seen:
                continue
            seen.add(name)
            for mount in source.mounts:
                if mount.kind is MountKind.BIND and mount.source is not None:
                    yield HostBind(
                        normalise_host_path(mount.source),
                        read_only or mount.read_only,
                        container.origin_of(address),
                        f"containers.{container.name}.{address}",
                        via=f" (at {mount.target} through volumes_from {chain})",
                    )
            pending += [
                (inner.container, read_only or inner.read_only, f"{chain} -> {inner.container}")
                for inner in source.volumes_from
            ]


def _bind_problems(bind: HostBind, policy: Policy, resolve: Resolve | None) -> list[Problem]:
    problems = []
    verdict = _path_verdict(split(bind.source), policy.allow, policy.deny)
    if verdict is None and resolve is not None:
        real = normalise_host_path(resolve(bind.source))
        allow = _with_resolved(policy.allow, resolve)
        verdict = _path_verdict(split(real), allow, _with_resolved(policy.deny, resolve))
        if verdict is not None and real != bind.source:
            verdict = (verdict[0], f"resolves to {real} on this host, which {verdict[1]}")
    if verdict is not None:
        rule, text = verdict
        problems.append(Problem(bind.position, bind.address, f"{bind.shown} {text}", rule))
    if not bind.read_only and not policy.read_write_binds:
        problems.append(
            Problem(
                bind.position,
                bind.address,
                f"{bind.shown} is mounted read-write, but {policy.source} allows "
                "read-only binds only (a writable bind can plant symlinks that escape any "
                "path rule); mount it read-only",
                "read-write-bind",
            )
        )
    return problems


def _path_verdict(
    path: Parts, allow: tuple[Rule, ...], deny: tuple[Rule, ...]
) -> tuple[str, str] | None:
    """(rule id, reason) when ``path`` breaks the rules, else None."""
    for rule in deny:
        if rule.pattern.covers(path) and not _lifted_under(path, rule, allow):
            return "host-path-denied", f"{_placed(path, rule.pattern)}denied by {rule.origin}"
        if rule.pattern.lies_under(path) and not _lifted_exactly(rule, allow):
            return "host-path-denied", f"would expose {rule.pattern}, denied by {rule.origin}"
    if allow and not any(rule.pattern.covers(path) for rule in allow):
        listed = ", ".join(str(rule.pattern) for rule in allow)
        return (
            "host-path-not-allowed",
            f"is outside the host paths {allow[0].origin} allows ({listed})",
        )
    return None


def _placed(path: Parts, rule: PathPattern) -> str:
    if path == rule.parts:
        return "is "
    return f"matches {rule}, " if len(path) == len(rule.parts) else f"lies under {rule}, "


def _lifted_under(path: Parts, denied: Rule, allow: tuple[Rule, ...]) -> bool:
    return any(rule.pattern.covers(path) and rule.pattern.within(denied.pattern) for rule in allow)


def _lifted_exactly(denied: Rule, allow: tuple[Rule, ...]) -> bool:
    return any(
        rule.pattern.within(denied.pattern) and denied.pattern.within(rule.pattern)
        for rule in allow
    )


def _with_resolved(rules: tuple[Rule, ...], resolve: Resolve) -> tuple[Rule, ...]:
    resolved = tuple(Rule(rule.pattern.resolved(resolve), rule.origin) for rule in rules)
    return rules + tuple(rule for rule in resolved if rule not in rules)


def _volume_problems(volume: DesiredVolume, policy: Policy) -> list[Problem]:
    allowed_options = policy.driver_options.get(volume.driver)
    if (
        volume.driver in policy.volume_drivers
        and (allowed_options is None or allowed_options.issuperset(volume.driver_opts))
        and not policy.required_volume_labels
    ):
        return []
    address = f"volumes.{volume.name}"
    if volume.driver not in policy.volume_drivers:
        allowed = ", ".join(sorted(policy.volume_drivers)) or "none"
        return [
            Problem(
                volume.origin,
                f"{address}.driver",
                f"volume driver {volume.driver!r} is not allowed by {policy.source} "
                f"(allowed: {allowed})",
                "volume-driver-not-allowed",
            )
        ]
    problems = []
    if allowed_options is not None:
        problems += [
            Problem(
                volume.origin,
                f"{address}.driver_opts.{name}",
                f"driver option {name!r} is not allowed for driver {volume.driver!r} by "
                f"{policy.source} (allowed: {', '.join(sorted(allowed_options)) or 'none'})",
                "driver-option-not-allowed",
            )
            for name in sorted(volume.driver_opts)
            if name not in allowed_options
        ]
    return problems + _missing_labels(
        volume.labels, policy.required_volume_labels, volume.origin, address, policy
    )


def _capability_problems(container: DesiredContainer, policy: Policy) -> list[Problem]:
    allowed = policy.capabilities
    return [
        Problem(
            container.origin_of("cap_add"),
            f"containers.{container.name}.cap_add",
            f"capability {name} weakens the container's isolation and is not allowed by "
            f"{policy.source} (allow it under containers.cap_add in a policy file)",
            "capability-not-allowed",
        )
        for name in container.options.cap_add
        if name not in allowed and "ALL" not in allowed
    ]


def _variable_problems(uses: tuple[VariableUse, ...], policy: Policy) -> list[Problem]:
    """References to environment variables the policy does not list; ``.env`` values pass."""
    patterns = policy.variables
    if patterns is None:
        return []
    refused: dict[tuple[Position, str], Problem] = {}
    for use in uses:
        if use.origin in (Origin.DOTENV, Origin.TARGETS) or any(
            fnmatchcase(use.name, p) for p in patterns
        ):
            continue
        refused[(use.position, use.name)] = Problem(
            use.position,
            "",
            f"variable {use.name} is not allowed by {policy.source} (allowed: "
            f"{', '.join(patterns) or 'none'}, and the .env next to the specs); a spec "
            "must not read the environment of the job that plans it",
            "variable-not-allowed",
        )
    return list(refused.values())


def _missing_labels(
    labels: Mapping[str, str],
    required: tuple[str, ...],
    position: Position,
    address: str,
    policy: Policy,
) -> list[Problem]:
    return [
        Problem(
            position,
            f"{address}.labels",
            f"label {key!r} is required by {policy.source}",
            "missing-required-label",
        )
        for key in required
        if key not in labels
    ]
