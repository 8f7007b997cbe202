"""The benchmark's one table, in Markdown, with the details that explain it below."""

from __future__ import annotations

from benchmarks.workloads import Row

HEADER = (
    "| workload | N | volplan s | floor s | ratio | docker CLI s | requests volplan / "
    "floor / CLI | volplan peak MB | target | met |"
)


def render(rows: list[Row], notes: list[str], problems: list[str], machine: str) -> str:
    lines = [f"Measured {machine}.", "", HEADER, "|" + "---|" * 10]
    lines += [_line(row) for row in rows]
    lines += ["", "Notes (requests per route, CPU):", *(f"- {note}" for note in notes)]
    if problems:
        lines += ["", "Targets not met:", *(f"- {problem}" for problem in problems)]
    return "\n".join(lines) + "\n"


def _line(row: Row) -> str:
    requests = " / ".join(
        _opt(n) for n in (row.volplan_requests, row.floor_requests, row.cli_requests)
    )
    cells = [
        row.workload,
        str(row.n),
        f"{row.volplan_s:.3f}",
        f"{row.floor_s:.3f}",
        f"{row.ratio:.2f}",
        f"{row.cli_s:.3f}" if row.cli_s is not None else "-",
        requests if row.volplan_requests is not None else "-",
        f"{row.volplan_rss_mb:.0f}" if row.volplan_rss_mb is not None else "-",
        row.target,
        "yes" if row.met else "**no**",
    ]
    return "| " + " | ".join(cells) + " |"


def _opt(value: int | None) -> str:
    return "-" if value is None else str(value)
