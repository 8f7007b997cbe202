"""``plan``, ``drift`` and ``apply`` across the engines of a targets file (``--targets``).

Targets run at once, at most ``--parallel-targets`` of them; each takes its own engine's
lock (apply/lock.py). One unreachable or failing target never stops the others: its error
is its result, and the run's exit code is 1 if any target failed, else 2 if any has changes
or drift, else 0 (render/fleet.py). The specs are loaded once for all the targets (once per
set of a target's ``variables:``), while the engines are read; a spec error stops the run
with that one error, whatever the engines answered.

A fleet's saved plan is all or nothing: every target's plan is checked again under its
engine's lock, and all locks are held until every target has passed, so one stale or
unreachable target refuses the whole plan with nothing applied anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from reconciler.cli.options import check_address, err, out, show, write_stdout
from reconciler.errors import (
    AddressError,
    ApplyError,
    Problem,
    RefusedError,
    SpecError,
    VolplanError,
)
from reconciler.spec.files import SPEC_SUFFIXES

if TYPE_CHECKING:
    from reconciler.apply.applier import ApplyListener
    from reconciler.apply.apply_target import ApplyTarget
    from reconciler.apply.locked_apply import Prompts, Ready
    from reconciler.engine.base import Engine
    from reconciler.engine.contexts import Endpoint
    from reconciler.live.background import Background
    from reconciler.model import LiveState
    from reconciler.pipeline import Specs
    from reconciler.plan.options import PlanOptions
    from reconciler.plan.saved_plan import SavedPlan
    from reconciler.policy.rules import Policy
    from reconciler.render.fleet import TargetResult
    from reconciler.spec.targets import Target

T = TypeVar("T")

TargetsOption = Annotated[
    Path | None,
    typer.Option(
        "--targets",
        metavar="FILE",
        help="A targets file (version: 1, targets: NAME: {host: or context:, tls:, labels:, "
        "variables:}): run on each of its engines at once, with one report.",
    ),
]
TargetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        metavar="NAME",
        help="With --targets: only this target (repeat for several).",
    ),
]
ParallelTargetsOption = Annotated[
    int,
    typer.Option(
        "--parallel-targets",
        min=1,
        metavar="N",
        help="With --targets: at most N targets at once.",
    ),
]
DEFAULT_PARALLEL_TARGETS = 8


@dataclass(frozen=True)
class Fleet:
    """The targets chosen, and how many run at once."""

    targets: tuple[Target, ...]
    parallel: int

    @classmethod
    def read(cls, path: Path, chosen: Sequence[str] | None, parallel: int) -> Fleet:
        from reconciler.spec.targets_cache import read_targets_cached

        targets = read_targets_cached(path, tuple(chosen or ()))
        problems = [p for p in map(_address_problem, targets) if p is not None]
        if problems:
            raise SpecError(problems)
        return cls(targets, parallel)

    def start(self, work: Callable[[Target], T]) -> list[Background[T | VolplanError]]:
        """``work`` begun on every target, at most ``parallel`` at once; a target whose
        work raises a volplan error has that error as its result. On daemon threads
        (background.py), so a run that ends before their results ends at once."""
        from reconciler.live.background import Background

        slots = threading.Semaphore(self.parallel)
        return [
            Background(partial(_guarded, work, target), name=f"volplan-{target.name}", slots=slots)
            for target in self.targets
        ]

    def each(self, work: Callable[[Target], T]) -> list[T | VolplanError]:
        """``work`` on every target (``start``), its results in the file's order."""
        return finished(self.start(work))

    def results(self, work: Callable[[Target], TargetResult]) -> list[TargetResult]:
        """``each``, with a target's error as its ``TargetResult``."""
        return self.as_results(self.start(work))

    def as_results(
        self, started: list[Background[TargetResult | VolplanError]]
    ) -> list[TargetResult]:
        """The results of ``started``, a target's error as its ``TargetResult``."""
        return [
            failed(target, outcome) if isinstance(outcome, VolplanError) else outcome
            for target, outcome in zip(self.targets, finished(started), strict=True)
        ]


def finished(started: list[Background[T]]) -> list[T]:
    """Every result, in order. Each thread is waited for also when waiting is cut short:
    an apply's are never left running while the run ends."""
    try:
        return [work.result() for work in started]
    finally:
        for work in started:
            work.wait()


def _guarded(work: Callable[[Target], T], target: Target) -> T | VolplanError:
    try:
        return work(target)
    except VolplanError as exc:
        return exc


def failed(target: Target, error: VolplanError | str, **given: Any) -> TargetResult:
    from reconciler.render.fleet import TargetResult

    message = error if isinstance(error, str) else " ".join(str(error).split())
    return TargetResult(target.name, target.endpoint, target.labels, error=message, **given)


def fleet_of(
    targets: Path | None,
    names: list[str] | None,
    parallel: int,
    host: str | None,
    context: str | None,
) -> Fleet | None:
    """The fleet ``--targets`` names (None without it), refused beside ``--host`` or
    ``--context``: the targets file names the engines."""
    if targets is None:
        if names:
            raise RefusedError("--target NAME chooses among the engines of a --targets file")
        return None
    if host is not None or context is not None:
        given = "--host" if host is not None else "--context"
        raise RefusedError(
            f"{given} and --targets cannot be given together: the targets file names the engines"
        )
    return Fleet.read(targets, names, parallel)


def is_fleet_plan_file(path: Path) -> bool:
    if not path.is_file() or path.suffix in SPEC_SUFFIXES:
        return False
    from reconciler.plan.fleet_plan import is_fleet_plan

    return is_fleet_plan(path)


def _address_problem(target: Target) -> Problem | None:
    try:
        check_address(target.host or "")
    except AddressError as exc:
        return Problem(target.origin, f"targets.{target.name}.host", str(exc), "invalid-value")
    return None


def connect_target(target: Target) -> Engine:
    """The target's engine, with retries and its targets-file labels over its own."""
    from reconciler.engine.adapter import DockerEngine
    from reconciler.engine.crash_hook import with_crash_hook
    from reconciler.engine.labelled import with_labels
    from reconciler.engine.retry import RetryingEngine

    engine = RetryingEngine(DockerEngine.connect(target_endpoint(target)))
    return with_labels(with_crash_hook(engine), target.labels)


def target_endpoint(target: Target) -> Endpoint:
    """A ``host:`` as given, with the file's ``tls:`` if any (not the environment's, which
    is ``DOCKER_HOST``'s); a ``context:`` resolved as the docker CLI does, the file's
    ``tls:`` replacing the context's."""
    from dataclasses import replace

    from reconciler.engine.contexts import Endpoint, TlsMaterial, resolve_endpoint

    tls = target.tls
    material = None
    if tls is not None:
        ca, cert, key = (Path(p) if p is not None else None for p in (tls.ca, tls.cert, tls.key))
        material = TlsMaterial(ca, cert, key, tls.verify)
    if target.host is not None:
        return Endpoint(target.host, tls=material)
    endpoint = resolve_endpoint(context=target.context)
    check_address(endpoint.host)
    return endpoint if material is None else replace(endpoint, tls=material)


class SpecsByVariables:
    """The specs loaded once per distinct set of target ``variables:`` (no variables: once,
    from the spec cache), before any target is planned."""

    def __init__(self, directory: Path, targets: Sequence[Target]) -> None:
        from reconciler.pipeline import load

        self._loaded: dict[tuple[tuple[str, str], ...], Specs] = {}
        for target in targets:
            key = _key(target)
            if key not in self._loaded:
                self._loaded[key] = load(directory, variables=target.variables)

    def __getitem__(self, target: Target) -> Specs:
        return self._loaded[_key(target)]

    def all(self) -> list[Specs]:
        return list(self._loaded.values())


@dataclass(frozen=True)
class Checks:
    """What a fleet's plan or drift check holds every target to: the policy and the specs."""

    policy: Policy
    specs: SpecsByVariables


def checks_loading(
    directory: Path, targets: Sequence[Target], policy_file: Path | None
) -> Background[Checks]:
    """The policy and the specs, loading while the targets' engines are read: every engine
    builds its answers in its own process, and that work overlaps the loading here (and
    the stages' imports) instead of following it. A policy or spec error still ends the
    run with that one error, whatever the engines answered: only GET requests went out."""
    from reconciler.live.background import Background

    def load() -> Checks:
        from reconciler.policy.selection import load_policy

        policy = load_policy(policy_file, spec_dir=directory)
        return Checks(policy, SpecsByVariables(directory, targets))

    return Background(load, name="volplan-load-specs")


def _key(target: Target) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(target.variables.items()))


def check_not_empty(specs: SpecsByVariables, directory: Path, *, allow_empty: bool) -> None:
    from reconciler.cli.options import require_projects

    for loaded in specs.all():
        require_projects(loaded.desired, directory, allow_empty=allow_empty)


def fleet_plan(
    fleet: Fleet,
    directory: Path,
    options: PlanOptions,
    policy_file: Path | None,
    *,
    json_output: bool,
    out_file: Path | None,
    allow_empty: bool,
) -> None:
    """Plan every target; exit 1 if any failed, 2 if any has changes, else 0. The engines
    are asked first, and the stages (pipeline, render) load while they answer."""
    loading = checks_loading(directory, fleet.targets, policy_file)

    def plan_one(target: Target) -> TargetResult:
        engine, live, specs = _read_and_check(target, loading)
        from reconciler.pipeline import plan, with_engine
        from reconciler.render.fleet import TargetResult

        planned = plan(*with_engine(engine, specs, live), options)
        return TargetResult(
            target.name, target.endpoint, planned.observed.engine.labels, planned=planned
        )

    results = _checked_results(fleet, plan_one, loading, directory, allow_empty=allow_empty)
    from reconciler.render.fleet import exit_code

    _print(results, "plan" if json_output else None, allow_data_loss=options.allow_data_loss)
    if out_file is not None:
        _save(fleet, results, loading.result().specs, directory, out_file)
    raise typer.Exit(exit_code(results))


def _read_and_check(target: Target, loading: Background[Checks]) -> tuple[Engine, LiveState, Specs]:
    """The target's engine and live state, read first; then its specs, held to the policy
    against this engine (``enforce_policy``)."""
    from reconciler.live.reader import connect_and_read

    engine, live = connect_and_read(partial(connect_target, target))
    from reconciler.pipeline import enforce_policy

    checks = loading.result()
    specs = checks.specs[target]
    enforce_policy(specs.desired, checks.policy, target.host or "")
    return engine, live, specs


def _checked_results(
    fleet: Fleet,
    work: Callable[[Target], TargetResult],
    loading: Background[Checks],
    directory: Path,
    *,
    allow_empty: bool,
) -> list[TargetResult]:
    """``work`` begun on every target, the loaded specs refused here if they declare no
    project (the one error of the run), then every target's result."""
    started = fleet.start(work)
    check_not_empty(loading.result().specs, directory, allow_empty=allow_empty)
    return fleet.as_results(started)


def _save(
    fleet: Fleet,
    results: list[TargetResult],
    specs: SpecsByVariables,
    directory: Path,
    out_file: Path,
) -> None:
    from reconciler.cli.output_file import write_output
    from reconciler.plan.document import dumps
    from reconciler.plan.fleet_plan import target_document
    from reconciler.plan.saved_plan import saved_plan_text
    from reconciler.render.fleet import fleet_document

    failed = [r.name for r in results if r.failed]
    if failed:
        err.print(
            f"Not saved: no plan for target {', '.join(failed)}; a fleet's saved plan "
            "needs every target's",
            markup=False,
        )
        return
    import json

    document = fleet_document(results, "plan")
    for target, result in zip(fleet.targets, results, strict=True):
        assert result.planned is not None
        entry = document["targets"][target.name]
        entry["target"] = target_document(target)
        entry["plan"] = json.loads(
            saved_plan_text(result.planned, specs[target].sources, directory)
        )
    write_output(out_file, dumps(document), private=True)
    err.print(
        f"Saved the fleet's plan to {out_file}; apply it with: volplan apply {out_file}",
        markup=False,
    )


def fleet_drift(
    fleet: Fleet,
    directory: Path,
    policy_file: Path | None,
    *,
    output_format: str,
    output: Path | None,
    include_unclaimed: bool,
    allow_empty: bool,
) -> None:
    """Drift of every target; exit 1 if any failed, 2 if any drifted, else 0. The engines
    are asked first, as in ``fleet_plan``."""
    loading = checks_loading(directory, fleet.targets, policy_file)

    def drift_one(target: Target) -> TargetResult:
        engine, live, specs = _read_and_check(target, loading)
        from reconciler.diff.differ import diff_states
        from reconciler.diff.drift import build_drift_report
        from reconciler.pipeline import with_images
        from reconciler.render.fleet import TargetResult

        loaded, live = with_images(engine, specs, live)
        diff = diff_states(loaded.desired, live)
        report = build_drift_report(loaded.desired, live, diff, include_unclaimed=include_unclaimed)
        return TargetResult(target.name, target.endpoint, live.engine.labels, drift=report)

    results = _checked_results(fleet, drift_one, loading, directory, allow_empty=allow_empty)
    from reconciler.render.fleet import exit_code

    if output is not None:
        from reconciler.cli.output_file import write_output
        from reconciler.render.fleet import render_fleet_summary

        write_output(output, _drift_report(results, output_format, directory))
        show(out, render_fleet_summary(results), end="")
        out.print(f"Report ({output_format}) written to {output}")
    elif output_format == "text":
        _print(results, None)
    else:
        write_stdout(_drift_report(results, output_format, directory))
    raise typer.Exit(exit_code(results))


def _drift_report(results: list[TargetResult], output_format: str, directory: Path) -> str:
    from reconciler.plan.document import dumps
    from reconciler.render import fleet, fleet_drift

    match output_format:
        case "json":
            return dumps(fleet.fleet_document(results, "drift"))
        case "markdown":
            hint = f"volplan drift {directory} --targets ... --format json"
            return fleet_drift.render_fleet_drift_markdown(results, json_hint=hint)
        case "junit":
            return fleet_drift.render_fleet_drift_junit(results)
        case _:
            return fleet.render_fleet(results).plain


def fleet_apply(
    fleet: Fleet,
    chosen: Callable[[Target], ApplyTarget],
    *,
    all_or_nothing: bool,
    lock_timeout: float,
    parallelism: int | None,
) -> None:
    """Apply on every target, each under its own engine's lock; exit 1 if any failed.

    ``all_or_nothing`` (a saved plan): every target is planned and checked again, and its
    lock kept, before any is applied to; one that fails refuses them all.

    SIGTERM or SIGINT stops every target at its next step (apply/interrupt.py): no action
    starts, those running finish, each lock is released at once; the report says what was
    done, and the run exits 128 + the signal's number (143 for SIGTERM).
    """
    from reconciler.apply.interrupt import interruptible
    from reconciler.apply.locked_apply import locked_plan
    from reconciler.render.fleet import exit_code

    printing = threading.Lock()
    with interruptible() as interruption:

        def locked(target: Target) -> _Locked:
            interruption.check("this target was not started")
            own = interruption.child()  # a lock lost stops this target alone
            engine = connect_target(target)
            stack = ExitStack()
            ready = stack.enter_context(
                locked_plan(
                    chosen(target),
                    engine,
                    _prompts(),
                    _listener(target, printing),
                    lock_timeout=lock_timeout,
                    parallelism=parallelism,
                    interruption=own,
                )
            )
            return _Locked(target, engine, ready, stack)

        def apply_one(target: Target) -> TargetResult:
            return by_target[target.name].apply(_listener(target, printing))

        if all_or_nothing:
            phase = fleet.each(locked)
            by_target = {h.target.name: h for h in phase if isinstance(h, _Locked)}
            if len(by_target) < len(phase) or interruption.requested():
                why = (
                    f"stopped by {interruption.name}"
                    if interruption.requested()
                    else "another target refused the saved plan"
                )
                results = [_refused(t, h, why) for t, h in zip(fleet.targets, phase, strict=True)]
            else:
                results = fleet.results(apply_one)
        else:
            results = fleet.results(
                lambda target: locked(target).apply(_listener(target, printing))
            )
    _print(results, None)
    raise typer.Exit(interruption.exit_code or exit_code(results))


@dataclass(frozen=True)
class _Locked:
    """A target's plan made and checked under its engine's lock, which ``stack`` holds."""

    target: Target
    engine: Engine
    ready: Ready
    stack: ExitStack

    def apply(self, listener: ApplyListener) -> TargetResult:
        """Apply the plan, then release the lock."""
        from reconciler.apply.locked_apply import apply_ready
        from reconciler.render.fleet import TargetResult

        labels = self.ready.planned.observed.engine.labels
        target, planned = self.target, self.ready.planned
        with self.stack:
            try:
                report = apply_ready(self.ready, self.engine, _prompts(), listener)
            except ApplyError as exc:
                return failed(target, exc, planned=planned, applied=exc.report)
        return TargetResult(target.name, target.endpoint, labels, planned=planned, applied=report)


def _refused(target: Target, outcome: _Locked | VolplanError, why: str) -> TargetResult:
    """A saved plan's target once another refused the plan (``why``), or a signal stopped
    the run: its lock released, unapplied."""
    if isinstance(outcome, VolplanError):
        return failed(target, outcome)
    outcome.stack.close()
    return failed(
        target,
        f"not applied: {why}, so nothing was applied anywhere",
        planned=outcome.ready.planned,
    )


def _prompts() -> Prompts:
    """A fleet asks nothing (its apply needs --yes or a saved plan) and shows plans at the end."""
    from reconciler.apply.locked_apply import Prompts
    from reconciler.cli.gitops import lock_waiting

    return Prompts(show_plan=lambda planned: None, confirm=None, on_lock_wait=lock_waiting(err))


def _listener(target: Target, printing: threading.Lock) -> ApplyListener:
    """Progress on stderr, each line led by its target's name."""
    from reconciler.apply.applier import ApplyListener
    from reconciler.render.text import render_result

    def progress(text: str) -> None:
        with printing:
            err.print(f"[{target.name}] {text}", markup=False)

    return ApplyListener(
        on_pull=lambda image, status: progress(f"pulling {image}: {status}"),
        on_result=lambda result: progress(render_result(result).plain),
    )


def _print(
    results: list[TargetResult], json_kind: str | None, *, allow_data_loss: bool = False
) -> None:
    """The fleet's report on stdout: as the JSON document of ``json_kind``, or as text."""
    from reconciler.render.fleet import fleet_document, render_fleet

    if json_kind is not None:
        from reconciler.plan.document import dumps

        write_stdout(dumps(fleet_document(results, json_kind)))
    else:
        show(out, render_fleet(results, allow_data_loss=allow_data_loss), end="")


def apply_fleet(
    fleet: Fleet | None,
    source: Path,
    options: PlanOptions,
    policy_file: Path | None,
    *,
    yes: bool,
    dry_run: bool,
    lock_timeout: float,
    parallelism: int | None,
    allow_empty: bool,
) -> None:
    """``apply`` with ``--targets`` (``fleet``), or of a fleet's saved plan (``source``)."""
    from reconciler.apply.apply_target import ApplyTarget
    from reconciler.pipeline import enforce_policy
    from reconciler.policy.selection import load_policy

    if fleet is None:
        saved = _saved_fleet(source, options)
        spec_dir = Path(saved[0][1].spec_dir)
        policy = load_policy(policy_file, spec_dir=spec_dir)
        plans = {target.name: plan for target, plan in saved}

        def chosen(target: Target) -> ApplyTarget:
            from reconciler.apply.replan import embedded_specs

            plan = plans[target.name]
            specs = embedded_specs(plan, target.variables)
            enforce_policy(specs.desired, policy, target.host or "")
            return ApplyTarget(specs, plan.options, plan)

        fleet = Fleet(tuple(target for target, _ in saved), DEFAULT_PARALLEL_TARGETS)
        if dry_run:
            raise RefusedError(
                "--dry-run applies to specs, not to a saved plan: read it with "
                "`volplan plan` or look at the file"
            )
        fleet_apply(
            fleet, chosen, all_or_nothing=True, lock_timeout=lock_timeout, parallelism=parallelism
        )
        return
    if source.is_file() and source.suffix not in SPEC_SUFFIXES:
        raise RefusedError(
            f"{source} is a saved plan, which names its engines itself: apply it without --targets"
        )
    if dry_run:
        fleet_plan(
            fleet,
            source,
            options,
            policy_file,
            json_output=False,
            out_file=None,
            allow_empty=allow_empty,
        )
    policy = load_policy(policy_file, spec_dir=source)
    if not yes:
        raise RefusedError(
            "a fleet's apply asks no question: re-run with --yes, or save the plan with "
            "`volplan plan --targets FILE --out PLAN`, review it, and apply PLAN"
        )
    specs = SpecsByVariables(source, fleet.targets)
    check_not_empty(specs, source, allow_empty=allow_empty)

    def fresh(target: Target) -> ApplyTarget:
        enforce_policy(specs[target].desired, policy, target.host or "")
        return ApplyTarget(specs[target], options)

    fleet_apply(
        fleet, fresh, all_or_nothing=False, lock_timeout=lock_timeout, parallelism=parallelism
    )


def _saved_fleet(path: Path, options: PlanOptions) -> list[tuple[Target, SavedPlan]]:
    from reconciler.plan.fleet_plan import read_fleet_plan
    from reconciler.plan.options import PlanOptions

    if options != PlanOptions():
        raise RefusedError(
            "a saved plan is applied with the options it was made with; to change "
            "--prune or --allow-data-loss, make the plan again with them"
        )
    return read_fleet_plan(path)
