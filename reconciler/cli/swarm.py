"""``volplan fleet-status``: the status of ``volplan watch`` agents run by Docker Swarm.

Registered on the main app by cli/main.py. Swarm places, restarts and updates the agents
(a global service, one task per node); volplan only reads what they report, from the
service's logs, which the manager gathers from every node. Exit codes are drift's: 0 all
reporting nodes in sync, 2 some node reports drift, 1 an error (no such service, not a
manager, no node reporting yet).
"""

from __future__ import annotations

from typing import Annotated

import typer

from reconciler.cli.gitops import EXIT_DRIFT, StatusFormat
from reconciler.cli.options import ContextOption, HostOption, connect, out, show, write_stdout
from reconciler.errors import FleetReportError

swarm = typer.Typer()


@swarm.command(
    "fleet-status",
    epilog="Examples: volplan fleet-status volplan-agent ; "
    "DOCKER_HOST=ssh://admin@manager volplan fleet-status volplan-agent --format json",
)
def fleet_status(
    service: Annotated[
        str, typer.Argument(metavar="SERVICE", help="The Swarm service running volplan watch.")
    ],
    host: HostOption = None,
    context: ContextOption = None,
    output_format: Annotated[
        StatusFormat, typer.Option("--format", help="text or json.")
    ] = StatusFormat.TEXT,
) -> None:
    """Show each node's latest volplan watch status, from a Swarm service's logs (on a manager)."""
    from reconciler.live.fleet_reports import latest_reports
    from reconciler.plan.document import dumps
    from reconciler.render.fleet_status import fleet_status_document, render_fleet_status

    reports = latest_reports(connect(host, context).service_logs(service))
    if not reports.nodes:
        raise FleetReportError(
            f"service {service}: no node has reported a volplan watch status yet "
            f"(is it running volplan watch? see docker service ps {service})"
        )
    if output_format is StatusFormat.JSON:
        write_stdout(dumps(fleet_status_document(service, reports)))
    else:
        show(out, render_fleet_status(service, reports), end="")
    if reports.drifted:
        raise typer.Exit(EXIT_DRIFT)
