"""Run the loader fuzz target for a while and record the run in fuzz/last-run.json.

    python fuzz/record_run.py --seconds 600

The working corpus lives in a temporary directory; the seed corpus in fuzz/corpus is
only read. A finding stops the run and is copied to fuzz/crashes/ to become a
regression test; with --no-record (CI) it is printed, base64-encoded, instead.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

FUZZ = Path(__file__).resolve().parent


def run_target(seconds: int, workdir: Path) -> tuple[int, dict[str, int], list[Path]]:
    """Fuzz for ``seconds``; return libFuzzer's exit code, its final stats and any findings."""
    corpus = workdir / "corpus"
    corpus.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            str(FUZZ / "loader_target.py"),
            f"-max_total_time={seconds}",
            "-print_final_stats=1",
            f"-dict={FUZZ / 'yaml.dict'}",
            f"-artifact_prefix={workdir}/",
            "-rss_limit_mb=1024",
            "-timeout=10",
            str(corpus),
            str(FUZZ / "corpus"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 300,
    )
    stats = {
        name: int(value)
        for name, value in re.findall(r"^stat::(\w+):\s+(\d+)$", result.stderr, re.MULTILINE)
    }
    findings = sorted(workdir.glob("crash-*")) + sorted(workdir.glob("timeout-*"))
    findings += sorted(workdir.glob("oom-*"))
    if result.returncode != 0 and not findings:
        sys.stderr.write(result.stderr[-4000:])
    return result.returncode, stats, findings


def _commit() -> str:
    """The commit fuzzed, so a recorded count can be read against the code it covered."""
    result = subprocess.run(
        ["git", "-C", str(FUZZ), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="only print the run (for CI): write no last-run.json, keep no findings",
    )
    options = parser.parse_args()
    seconds = options.seconds
    with tempfile.TemporaryDirectory(prefix="volplan-fuzz-") as tmp:
        code, stats, findings = run_target(seconds, Path(tmp))
        kept = {f.name: base64.b64encode(f.read_bytes()).decode() for f in findings}
        if not options.no_record:
            for finding in findings:
                shutil.copy(finding, FUZZ / "crashes" / finding.name)
    record = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": _commit(),
        "target": "fuzz/loader_target.py",
        "seconds": seconds,
        "inputs_tried": stats.get("number_of_executed_units", 0),
        "inputs_per_second": stats.get("average_exec_per_sec", 0),
        "new_corpus_units": stats.get("new_units_added", 0),
        "peak_rss_mb": stats.get("peak_rss_mb", 0),
        "findings": kept,
        "python": platform.python_version(),
        "atheris": version("atheris"),
    }
    if not options.no_record:
        (FUZZ / "last-run.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0 if code == 0 and not findings else 1


if __name__ == "__main__":
    sys.exit(main())
