"""Hostile spec files through the real CLI: refused fast, in bounded memory, engine untouched.

Each run is measured with ``os.wait4`` (the child's own peak RSS and CPU time) and runs
under hard limits, so a regression fails the test instead of exhausting the shared machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.engine import Engine

ADDRESS_SPACE_LIMIT = 2 * 1024**3
CPU_LIMIT_SECONDS = 60
PEAK_RSS_BOUND_MB = 256
"""The CLI with its imports peaks near 70 MB; an expanded billion-laughs document needs GBs."""
CPU_BOUND_SECONDS = 30
"""Refusals take about a second; expanding 10^9 aliases would take far longer."""

CHILD = (
    "import resource, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE_LIMIT}, {ADDRESS_SPACE_LIMIT}))\n"
    f"resource.setrlimit(resource.RLIMIT_CPU, ({CPU_LIMIT_SECONDS}, {CPU_LIMIT_SECONDS}))\n"
    "from reconciler.cli.main import main\n"
    "main(sys.argv[1:])\n"
)


def billion_laughs() -> str:
    """The classic: nine levels of ten aliases each, 10^9 strings once expanded."""
    lines = ["version: 1", "project: laughs", 'lol0: &lol0 ["lol","lol","lol","lol","lol"]']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, 10)]
    lines.append("containers: {web: {image: busybox, command: *lol9}}")
    return "\n".join(lines) + "\n"


HOSTILE_FILES = {
    "billion laughs": (
        billion_laughs(),
        "laughs.yaml:3:7: error: anchors and aliases are not allowed [yaml-alias]",
    ),
    "deep nesting (crashed ruamel's C composer)": (
        "version: 1\nproject: deep\ncontainers: " + "[" * 200_000,
        "laughs.yaml:3:45: error: nested deeper than 32 [yaml-depth]",
    ),
    "node flood": (
        "version: 1\nproject: flood\ncontainers: [" + "a," * 2_000_000 + "a]\n",
        "laughs.yaml:3:400000: error: more than 200000 YAML nodes [yaml-size]",
    ),
    "python object tag": (
        "version: 1\nproject: !!python/object/apply:os.system ['touch /tmp/volplan-pwned']\n",
        "laughs.yaml:2:10: error: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not "
        "allowed: only YAML's standard types are [yaml-tag]",
    ),
    "duplicate keys": (
        "version: 1\nproject: dup\ncontainers:\n  web: {image: busybox}\n  web: {image: evil}\n",
        "laughs.yaml:5:3: error: duplicate key 'web' (first defined at specs/laughs.yaml:4:3) "
        "[duplicate-key]",
    ),
}


@dataclass(frozen=True)
class Measured:
    exit_code: int
    stderr: str
    peak_rss_mb: float
    cpu_seconds: float


LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)\n"
    "sys.exit(code if code >= 0 else 128 - code)\n"
)
"""Runs the CLI and prints its peak RSS (KB) and CPU seconds. Linux reports, as a child's
peak, the memory its parent had when it forked; forked from this small launcher, the figure
is the CLI's own, not that of the (large, long-lived) pytest worker."""


def run_measured(args: list[str], *, docker_host: str, cwd: Path) -> Measured:
    """Run the CLI in a child under hard limits and return its own resource usage."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env |= {"DOCKER_HOST": docker_host, "NO_COLOR": "1", "CI": "true"}
    stderr_path = cwd / "stderr.txt"
    with stderr_path.open("wb") as stderr:
        launched = subprocess.run(
            [sys.executable, "-c", LAUNCHER, sys.executable, "-c", CHILD, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=cwd,
            text=True,
            check=False,
        )
    peak_kb, cpu_seconds = launched.stdout.split()
    return Measured(
        exit_code=launched.returncode,
        stderr=stderr_path.read_text(),
        peak_rss_mb=int(peak_kb) / 1024,
        cpu_seconds=float(cpu_seconds),
    )


@pytest.mark.parametrize("case", HOSTILE_FILES, ids=list(HOSTILE_FILES))
def test_hostile_yaml_is_refused_in_bounded_time_and_memory_touching_nothing(
    case: str, clean_engine: Engine, tmp_path: Path
) -> None:
    text, expected = HOSTILE_FILES[case]
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "laughs.yaml").write_text(text)

    result = run_measured(["apply", "--yes", "specs"], docker_host=clean_engine.host, cwd=tmp_path)

    print(f"{case}: peak RSS {result.peak_rss_mb:.0f} MB, CPU {result.cpu_seconds:.2f} s")
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"specs/{expected}",
        "1 problem found; nothing was changed.",
    ]
    assert result.peak_rss_mb < PEAK_RSS_BOUND_MB
    assert result.cpu_seconds < CPU_BOUND_SECONDS
    assert clean_engine.volume_names() == set()
    assert clean_engine.container_names() == set()
    assert not Path("/tmp/volplan-pwned").exists()
