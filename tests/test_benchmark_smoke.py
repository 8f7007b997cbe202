"""The benchmark's one command works, at a size CI can afford (N = 50); no timing asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.engine import Engine

ROOT = Path(__file__).resolve().parents[1]


def test_the_benchmark_runs_and_writes_its_table(clean_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    sizes = ["--sizes", "50", "--apply-sizes", "50", "--flip-size", "50", "--cli-max", "50"]
    validate = ["--validate-volumes", "50", "--validate-containers", "10", "--validate-files", "2"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--host",
            clean_engine.host,
            *sizes,
            *validate,
            "--repeats",
            "1",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    table = out.read_text()
    assert table in result.stdout
    for workload in ("validate", "apply from empty", "plan, no changes", "flip one mount"):
        assert f"| {workload}" in table
    assert "| plan, no changes | 50 |" in table
    assert "| plan, no changes, specs not cached | 50 |" in table
    assert "5 / 3 / 4" in table  # requests: volplan / SDK floor / docker CLI
