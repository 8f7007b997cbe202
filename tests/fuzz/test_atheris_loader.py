"""The atheris fuzz target: replay every kept finding and seed, then fuzz for a bounded time."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_spec_properties import load_or_spec_error

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
SECONDS = int(os.environ.get("VOLPLAN_FUZZ_SECONDS", "30"))
KEPT = sorted(
    p
    for folder in ("crashes", "corpus")
    for p in (FUZZ / folder).iterdir()
    if p.is_file() and p.name != ".gitkeep"
)


@pytest.mark.parametrize("path", KEPT, ids=[f"{p.parent.name}/{p.name}" for p in KEPT])
def test_kept_inputs_load_or_give_a_spec_error(path: Path) -> None:
    load_or_spec_error(path.read_bytes())


@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed: the test extras install it on x86_64 Linux only, where "
    "it ships wheels (elsewhere it must be built with clang and libFuzzer)",
)
def test_coverage_guided_fuzzing_finds_nothing(record_property: Callable[[str, Any], None]) -> None:
    result = subprocess.run(
        [sys.executable, str(FUZZ / "record_run.py"), "--seconds", str(SECONDS), "--no-record"],
        capture_output=True,
        text=True,
        timeout=SECONDS + 600,
        check=False,
    )
    record = json.loads(result.stdout)
    record_property("fuzz_inputs", record["inputs_tried"])

    findings = {name: base64.b64decode(data) for name, data in record["findings"].items()}
    assert findings == {}, "keep each finding in fuzz/crashes/ as a regression test"
    assert result.returncode == 0, result.stderr[-4000:]
    assert record["inputs_tried"] > 0
