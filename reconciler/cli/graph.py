"""``volplan graph``: a picture of the topology, as Graphviz DOT or a Mermaid flowchart.

What needs an engine: ``graph SPECS`` draws the specs (the desired state) and needs none;
when an engine answers it also colours what a plan would change (and draws the volumes
the images declare), and when none answers it says so on stderr and draws the specs
alone. ``--offline`` never asks one. ``graph --live [SPECS]`` draws the live engine's
topology (of the specs' projects, or of the whole engine), coloured by the plan when
specs are given.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reconciler.cli.options import (
    ContextOption,
    HostOption,
    PolicyOption,
    connect,
    engine_endpoint,
    err,
    write_stdout,
)

if TYPE_CHECKING:
    from reconciler.identity import Address
    from reconciler.pipeline import Specs
    from reconciler.policy.rules import Policy
    from reconciler.render.graph import Graph, NodeChange

drawing = typer.Typer()

Selected = tuple[str | None, str | None]
"""The engine the options select: ``--host`` and ``--context``."""


class GraphFormat(StrEnum):
    MERMAID = "mermaid"
    DOT = "dot"


@drawing.command(
    epilog="Examples: volplan graph specs/ > topology.mmd ; volplan graph specs/ --format dot "
    "| dot -Tsvg > topology.svg ; volplan graph --live --format dot ; volplan graph specs/ "
    "--offline"
)
def graph(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="[SPECS]",
            help="A spec file or folder (needed unless --live: then it narrows the picture "
            "to its projects and colours their plan).",
        ),
    ] = None,
    *,
    live: Annotated[
        bool,
        typer.Option("--live", help="Draw what the engine runs, not what the specs declare."),
    ] = False,
    output_format: Annotated[
        GraphFormat,
        typer.Option(
            "--format", help="mermaid (forges draw it inline in Markdown) or dot (Graphviz)."
        ),
    ] = GraphFormat.MERMAID,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Draw the specs alone, without asking an engine for the plan."
        ),
    ] = False,
    host: HostOption = None,
    context: ContextOption = None,
    policy: PolicyOption = None,
) -> None:
    """Draw volumes, containers, host paths and volumes_from, with ro/rw on the edges and
    the planned changes coloured: green safe, amber restarts-container, red destroys-data."""
    from reconciler.errors import SpecPathError
    from reconciler.policy.selection import load_policy
    from reconciler.render.graph_syntax import render_dot, render_mermaid

    if live and offline:
        raise SpecPathError("--live draws the engine: it cannot be --offline")
    enforced = load_policy(policy, spec_dir=directory) if directory is not None else None
    if live:
        picture = _live(directory, enforced, (host, context))
    elif directory is None or enforced is None:
        raise SpecPathError("give a spec file or folder to draw, or --live for the engine's")
    else:
        picture = _desired(directory, enforced, (host, context), offline=offline)
    render = render_dot if output_format is GraphFormat.DOT else render_mermaid
    write_stdout(render(picture))


def _desired(directory: Path, policy: Policy, selected: Selected, *, offline: bool) -> Graph:
    from reconciler.errors import EngineUnreachable
    from reconciler.pipeline import load
    from reconciler.render.graph import desired_graph

    base = str((directory if directory.is_dir() else directory.parent).resolve())
    title = f"volplan graph {directory}"
    if not offline:
        try:
            specs, changes = _planned(directory, policy, selected)
        except EngineUnreachable as exc:
            err.print(f"note: {exc}; drawing the specs without a plan", markup=False)
        else:
            return desired_graph(specs.desired, changes, base=base, title=f"{title} (planned)")
    specs = load(directory, policy=policy, endpoint=engine_endpoint(*selected).host)
    return desired_graph(specs.desired, base=base, title=title)


def _planned(
    directory: Path, policy: Policy, selected: Selected
) -> tuple[Specs, dict[Address, NodeChange]]:
    """The specs as planned against the engine (completed by their images' volumes)."""
    from reconciler.pipeline import Specs, load_and_read
    from reconciler.pipeline import plan as make_plan
    from reconciler.render.graph import planned_changes

    engine = connect(*selected)
    planned = make_plan(*load_and_read(directory, lambda: engine, policy=policy))
    return Specs(planned.sources, planned.desired), planned_changes(planned.plan)


def _live(directory: Path | None, policy: Policy | None, selected: Selected) -> Graph:
    from reconciler.live.status import read_topology
    from reconciler.render.graph import live_graph

    changes: dict[Address, NodeChange] = {}
    desired = None
    if directory is not None and policy is not None:
        specs, changes = _planned(directory, policy, selected)
        desired = specs.desired
    topology = read_topology(connect(*selected), desired)
    return live_graph(topology, changes, title=f"volplan graph --live {topology.engine.endpoint}")
