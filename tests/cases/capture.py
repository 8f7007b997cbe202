"""Write a case's ``live.json`` from a real engine's answers (see README.md here).

    .venv/bin/python tests/cases/capture.py unix:///tmp/vpc/docker.sock tests/cases/NAME

The three list answers are stored as the engine gave them; only the endpoint is replaced
by a stable one, so the plan's header does not name a throwaway engine's socket.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import docker

STABLE_ENDPOINT = "unix:///var/run/docker.sock"
API_VERSION = "1.41"


def capture(host: str) -> dict[str, Any]:
    client = docker.APIClient(base_url=host, version=API_VERSION)
    try:
        info = client.info()
        return {
            "engine": {
                "endpoint": STABLE_ENDPOINT,
                "daemon_id": info["ID"],
                "name": info["Name"],
                "server_version": info["ServerVersion"],
                "api_version": API_VERSION,
                "is_local": True,
                "cpus": info["NCPU"],
            },
            "volumes": client.volumes(),
            "containers": client.containers(all=True),
        }
    finally:
        client.close()


def main(host: str, case: str) -> None:
    folder = Path(case)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(capture(host), indent=2, sort_keys=True) + "\n"
    (folder / "live.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
