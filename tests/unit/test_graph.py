"""volplan graph's pure stages: the graph of a desired state, its DOT drawn by Graphviz
itself, and its Mermaid text, with hostile names and the plan's safety colours."""

from __future__ import annotations

import re
from pathlib import Path

from support.graphviz import render_svg
from support.mermaid import mermaid_problems

from reconciler.plan.actions import (
    CreateVolume,
    Plan,
    RecreateContainer,
    RemoveVolume,
    ReplaceVolume,
    Safety,
)
from reconciler.render.graph import NodeKind, desired_graph, node_id, planned_changes
from reconciler.render.graph_syntax import FILL, render_dot, render_mermaid
from specs import FOLDER, desired_from

SHOP = """\
    version: 1
    project: shop
    volumes:
      pgdata: {protect: true}
      shared-cache: {external: true}
    containers:
      datastore:
        image: busybox:latest
        state: created
        mounts: [/shared]
      db:
        image: busybox:latest
        mounts: ["pgdata:/var/lib/db", "./config:/etc/db:ro", "shared-cache:/cache"]
        volumes_from: ["datastore:ro"]
      web:
        image: busybox:latest
        mounts: ["./config:/etc/web:ro", "/srv/uploads:/uploads"]
        volumes_from: [datastore]
    """

HOSTILE_PATH = '/srv/we"ird \\ <b>#1;|%%`x` end'


def test_the_specs_draw_as_graphviz_nodes_and_edges_with_ro_and_rw() -> None:
    graph = desired_graph(desired_from(SHOP), base=FOLDER, title="shop")
    drawn = render_svg(render_dot(graph))
    config = node_id(NodeKind.BIND, "./config")
    assert set(drawn.nodes) == {
        "container_datastore",
        "container_db",
        "container_web",
        "volume_pgdata",
        "volume_shared_2d_cache",
        config,
        node_id(NodeKind.BIND, "/srv/uploads"),
        node_id(NodeKind.ANONYMOUS, "datastore:/shared"),
    }
    assert drawn.nodes["volume_pgdata"] == ["pgdata", "protected"]
    assert drawn.nodes["volume_shared_2d_cache"] == ["shared-cache", "external"]
    assert drawn.nodes["container_datastore"] == ["datastore", "busybox:latest (created)"]
    assert drawn.nodes[config] == ["./config"]  # one node for the path both containers bind
    assert drawn.edges == {
        ("container_datastore", node_id(NodeKind.ANONYMOUS, "datastore:/shared")): ["/shared rw"],
        ("container_db", "volume_pgdata"): ["/var/lib/db rw"],
        ("container_db", config): ["/etc/db ro"],
        ("container_db", "volume_shared_2d_cache"): ["/cache rw"],
        ("container_db", "container_datastore"): ["volumes_from ro"],
        ("container_web", config): ["/etc/web ro"],
        ("container_web", node_id(NodeKind.BIND, "/srv/uploads")): ["/uploads rw"],
        ("container_web", "container_datastore"): ["volumes_from rw"],
    }


def test_the_planned_changes_are_coloured_by_their_worst_safety_class() -> None:
    desired = desired_from(SHOP)
    plan = Plan(
        (
            CreateVolume(volume=desired.volumes["shared-cache"], reason="new"),
            RecreateContainer(
                container=desired.containers["web"], old_id="1", was_running=True, reason="env"
            ),
            ReplaceVolume(volume=desired.volumes["pgdata"], reason="driver_opts"),
            RecreateContainer(
                container=desired.containers["db"], old_id="2", was_running=True, reason="mount"
            ),
            RemoveVolume(name="old-reports", reason="prune"),
        )
    )
    changes = planned_changes(plan)
    graph = desired_graph(desired, changes, base=FOLDER)
    drawn = render_svg(render_dot(graph))
    assert drawn.fills["volume_pgdata"] == FILL[Safety.DESTROYS_DATA][0]
    assert drawn.nodes["volume_pgdata"] == ["pgdata", "protected", "replace [destroys-data]"]
    assert drawn.fills["container_web"] == FILL[Safety.RESTARTS][0]
    assert drawn.fills["volume_shared_2d_cache"] == FILL[Safety.SAFE][0]
    assert drawn.fills["container_datastore"] in {"none", ""}
    # A pruned volume is in no spec: drawn alone, so its removal is seen.
    assert drawn.fills["volume_old_2d_reports"] == FILL[Safety.DESTROYS_DATA][0]
    mermaid = render_mermaid(graph)
    assert "  class volume_old_2d_reports,volume_pgdata destroys\n" in mermaid
    assert "  class container_db,container_web restarts\n" in mermaid
    assert "  class volume_shared_2d_cache safe\n" in mermaid


def test_hostile_names_stay_inside_their_labels_in_both_languages() -> None:
    desired = desired_from(
        f"""\
        version: 1
        project: shop
        containers:
          web:
            image: busybox:latest
            mounts: ['{HOSTILE_PATH}:/uploads']
        """
    )
    graph = desired_graph(desired, base=FOLDER)
    hostile = node_id(NodeKind.BIND, HOSTILE_PATH)
    assert re.fullmatch(r"[A-Za-z0-9_]+", hostile)
    drawn = render_svg(render_dot(graph))
    assert drawn.nodes[hostile] == [HOSTILE_PATH]
    node_line = re.compile(r'  [A-Za-z0-9_]+(\["|\[\("|\[/")[^"]*("\]|"\)\]|"/\])')
    edge_line = re.compile(r'  [A-Za-z0-9_]+ (-->|-\.->)\|"[^"|]*"\| [A-Za-z0-9_]+')
    lines = render_mermaid(graph).splitlines()
    assert lines[0] == "flowchart LR"
    for line in lines[1:]:
        assert (
            node_line.fullmatch(line)
            or edge_line.fullmatch(line)
            or line.startswith(("  %% ", "  classDef ", "  class "))
        ), line
    label = next(line for line in lines if line.startswith(f"  {hostile}["))
    assert label == f'  {hostile}[/"{_mermaid_escaped(HOSTILE_PATH)}"/]'


def _mermaid_escaped(text: str) -> str:
    codes = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;"}
    codes |= {"`": "#96;", "|": "#124;", "%": "#37;"}
    return "".join(codes.get(c, c) for c in text)


def test_ids_never_collide_and_the_text_does_not_depend_on_file_order() -> None:
    names = ["a-b", "a_b", "a_2d_b", "a.b", "a__b"]
    assert len({node_id(NodeKind.VOLUME, n) for n in names}) == len(names)
    first, second = SHOP, "version: 1\nproject: other\nvolumes: {zeta: {}, alpha: {}}\n"
    one = desired_graph(desired_from(first, second), base=FOLDER)
    other = desired_graph(desired_from(second, first), base=FOLDER)
    assert render_dot(one) == render_dot(other)
    assert render_mermaid(one) == render_mermaid(other)


def test_mermaid_itself_parses_what_graph_writes() -> None:
    """Mermaid's own parser (as forges run it), on hostile names, every node kind and
    colour, and the README's picture; a broken text shows the check can fail."""
    desired = desired_from(SHOP)
    plan = Plan(
        (
            CreateVolume(volume=desired.volumes["shared-cache"], reason="new"),
            ReplaceVolume(volume=desired.volumes["pgdata"], reason="driver_opts"),
            RecreateContainer(
                container=desired.containers["web"], old_id="1", was_running=True, reason="env"
            ),
        )
    )
    hostile = desired_from(
        f"""\
        version: 1
        project: shop
        containers:
          web:
            image: busybox:latest
            mounts: ['{HOSTILE_PATH}:/uploads', '/srv/end:/end', '/srv/o:/x']
        """
    )
    texts = [
        render_mermaid(desired_graph(desired, planned_changes(plan), base=FOLDER, title="a %% b")),
        render_mermaid(desired_graph(hostile, base=FOLDER, title='"quoted" <b>')),
        (Path(__file__).resolve().parents[2] / "examples" / "pictures" / "shop.mmd").read_text(),
        'flowchart LR\n  a["x"] -->|"y| b\n',
    ]
    problems = mermaid_problems(texts)
    assert problems[:3] == [None, None, None]
    assert problems[3] is not None
    assert "Parse error" in problems[3]
