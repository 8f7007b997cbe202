"""Check Mermaid text with mermaid's own parser (mermaid_parse.mjs), run by node.

mermaid and jsdom come from npm into a cached folder (tool_cache.py); without node or
npm the check fails in CI (scripts/lib.sh installs them) and is skipped elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from support.tool_cache import cached_node_packages

PACKAGES = ("mermaid@11.17.2", "jsdom@25.0.1")
SCRIPT = Path(__file__).with_name("mermaid_parse.mjs")


def mermaid_problems(texts: Sequence[str]) -> list[str | None]:
    """For each text, None if mermaid parses it as a flowchart, else the parser's message."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        message = "node and npm are missing: install Debian's npm (scripts/test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(f"{message}; skipped outside CI only")
    home = cached_node_packages(PACKAGES)
    # An ES module finds node_modules from where it lies: a copy beside them, by content.
    source = SCRIPT.read_bytes()
    script = home / f"mermaid_parse-{hashlib.sha256(source).hexdigest()[:12]}.mjs"
    if not script.exists():
        partial = script.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(source)
        partial.rename(script)
    done = subprocess.run(
        ["node", script],
        input=json.dumps(list(texts)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: list[str | None] = json.loads(done.stdout)
    return found
