"""Fill a volume with awkward content and fingerprint it, for the data-safety tests."""

from __future__ import annotations

from docker.types import Mount

from support.engine import IMAGE, Engine

# Files of several sizes (empty, small, > 1 MiB chunk), a unicode name, a symlink, an empty
# directory, a file owned by nobody with mode 640, a setgid directory.
FILL_SCRIPT = """
set -e
cd /v
mkdir -p sub/empty 'dïr ünïcode' shared
printf '' > empty.txt
echo small > small.txt
head -c 70000 /dev/urandom > sub/medium.bin
head -c 1500000 /dev/urandom > 'dïr ünïcode/größe.bin'
ln -s sub/medium.bin link-to-medium
ln -s /nowhere dangling
chown 65534:65534 small.txt
chmod 640 small.txt
chmod 2775 shared
chmod 700 .
"""

FINGERPRINT_SCRIPT = """
cd /v
find . -exec stat -c '%n|%a|%u|%g|%F|%s|%N' {} \\;
find . -type f -exec sha256sum {} \\;
"""


def fill(engine: Engine, volume: str, script: str = FILL_SCRIPT) -> None:
    code, output = engine.run_with_volumes(script, mounts=[Mount("/v", volume)])
    assert code == 0, output


def fingerprint(engine: Engine, volume: str) -> list[str]:
    """Every entry's name, mode, owner, type, size and link target, and every file's sha256."""
    code, output = engine.run_with_volumes(FINGERPRINT_SCRIPT, mounts=[Mount("/v", volume)])
    assert code == 0, output
    lines = sorted(output.splitlines())
    assert len(lines) > 1
    return lines


def data_volume_container(engine: Engine, name: str, paths: list[str]) -> None:
    """A container made by plain Docker (not volplan) whose anonymous volumes hold data."""
    client = engine.client
    client.create_container(
        IMAGE,
        ["true"],
        name=name,
        volumes=paths,
        host_config=client.create_host_config(network_mode="none"),
    )
