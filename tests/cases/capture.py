"""Write a case's ``live.json`` from a real engine's answers (see README.md here).

    .venv/bin/python tests/cases/capture.py unix:///tmp/vpc/docker.sock tests/cases/NAME

The list answers are stored as the engine gave them, and of ``/info`` and each image's
``/images/{id}/json`` the parts volplan reads (the rest is the capturing host's detail:
its kernel, storage, layers). Only the endpoint is replaced by a stable one, so the plan's
header does not name a throwaway engine's socket.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import docker

STABLE_ENDPOINT = "unix:///var/run/docker.sock"
API_VERSION = "1.41"
INFO_FIELDS = ("ID", "Name", "ServerVersion", "NCPU")
"""What ``engine/records.py::parse_info`` reads of ``GET /info``."""
IMAGE_FIELDS = ("Id", "Config")
"""What ``parse_image_inspect`` reads of ``GET /images/{id}/json``."""


def capture(host: str) -> dict[str, Any]:
    client = docker.APIClient(base_url=host, version=API_VERSION)
    try:
        info = client.info()
        images = client.images()
        return {
            "endpoint": STABLE_ENDPOINT,
            "api_version": API_VERSION,
            "info": {name: info[name] for name in INFO_FIELDS},
            "volumes": client.volumes(),
            "containers": client.containers(all=True),
            "images": images,
            "image_inspects": [_inspect(client, image["Id"]) for image in images],
        }
    finally:
        client.close()


def _inspect(client: docker.APIClient, image_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.inspect_image(image_id)  # type: ignore[no-untyped-call]
    return {name: answer[name] for name in IMAGE_FIELDS}


def main(host: str, case: str) -> None:
    folder = Path(case)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(capture(host), indent=2, sort_keys=True) + "\n"
    (folder / "live.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
