"""A 2-node Docker Swarm on this machine, with no private-range network.

It follows /work/shared/reference/swarm-on-loopback.md (README, "Continuous
reconciliation", shows the same recipe to users): both daemons run in a network namespace
of the test's own that holds only ``lo``; their address pools are in 127/8; ``ingress``
and ``docker_gwbridge`` are removed before the worker joins, so no network in 10/8,
172.16/12 or 192.168/16 is ever created. Each node advertises its own loopback address
(127.0.0.1, 127.0.0.2). Images are loaded on every node; services are created with
``--no-resolve-image``, since no registry answers.

Every step that started something is undone by ``running_swarm`` in the recipe's order,
whatever failed: services, swarm membership, the daemons (by their pid), mounts left
under the daemons' folders, the namespace, the folder.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

DOCKER = shutil.which("docker") or "docker"
START_SECONDS = 30
STOP_SECONDS = 20
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
TMPFS_SIZE = "4g"
"""The daemons keep everything in memory: images extract and vanish fast (~0.5 GB a node)."""


class SwarmUnavailableError(Exception):
    """No swarm can run here: not root, or no dockerd, nsenter or ip."""


@dataclass(frozen=True)
class ImageArchive:
    """A ``docker save`` tar to load (``tag`` None), or a rootfs tar to import as ``tag``
    with Dockerfile-style ``changes``."""

    path: Path
    tag: str | None = None
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SwarmNode:
    number: int
    folder: Path
    node_id: str

    @property
    def socket_folder(self) -> Path:
        """The folder of the engine's socket alone: what the node's agent task mounts."""
        return self.folder / "sock"

    @property
    def host(self) -> str:
        return _host(self.folder)

    def docker(self, *args: str, input: bytes | None = None, check: bool = True) -> str:
        """Run the docker CLI against this node; its stdout."""
        return docker(self.host, *args, input=input, check=check)


@dataclass(frozen=True)
class Swarm:
    folder: Path
    nodes: tuple[SwarmNode, ...]

    @property
    def manager(self) -> SwarmNode:
        return self.nodes[0]

    @property
    def sockets_by_node(self) -> Path:
        """``FOLDER/<node id>``: each node's socket folder, for a ``{{.Node.ID}}`` bind."""
        return self.folder / "bynode"

    def node(self, number: int) -> SwarmNode:
        return self.nodes[number - 1]


def docker(host: str, *args: str, input: bytes | None = None, check: bool = True) -> str:
    result = subprocess.run(
        [DOCKER, "-H", host, *args], input=input, capture_output=True, timeout=120, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"docker {' '.join(args)} failed ({result.returncode}): {result.stderr.decode()}"
        )
    return result.stdout.decode()


@contextmanager
def running_swarm(
    engine_labels: Sequence[Mapping[str, str]], images: Sequence[ImageArchive]
) -> Iterator[Swarm]:
    """A swarm of one node per ``engine_labels`` entry (the first is the manager), each
    started with those ``dockerd --label``s and with ``images`` loaded."""
    check_tools()
    folder = Path(tempfile.mkdtemp(prefix="vps-", dir="/tmp"))  # short: socket paths
    namespace = f"volplan-swarm-{os.getpid()}"
    with ExitStack() as cleanup:
        cleanup.callback(folder.rmdir)
        _run("mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(folder))
        cleanup.callback(_unmount, folder)
        _run("ip", "netns", "add", namespace)
        cleanup.callback(_run, "ip", "netns", "del", namespace)
        _run(
            "ip", "netns", "exec", namespace, "sh", "-c",
            "ip link set lo up && sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 "
            "net.ipv6.conf.default.disable_ipv6=1",
        )  # fmt: skip
        cleanup.callback(_unmount_under, folder)
        daemons: list[subprocess.Popen[bytes]] = []
        cleanup.callback(_terminate, daemons)
        started = [folder / str(number) for number in range(1, len(engine_labels) + 1)]
        for number, labels in enumerate(engine_labels, start=1):
            daemons.append(_start_dockerd(started[number - 1], namespace, number, labels))
        with ThreadPoolExecutor(len(started)) as pool:  # each node's imports are its own work
            list(pool.map(lambda node_folder: _prepare(node_folder, images), started))
        hosts = [_host(f) for f in started]
        nodes = _form_swarm(cleanup, folder, started, hosts)
        swarm = Swarm(folder, nodes)
        for host in hosts:
            _check_loopback_networks(host)
        cleanup.callback(_remove_services, swarm.manager)
        yield swarm


def _prepare(folder: Path, images: Sequence[ImageArchive]) -> None:
    """Wait for the node's engine, then load every image on it."""
    _await(folder)
    for image in images:
        _load(_host(folder), image)


def _host(folder: Path) -> str:
    return f"unix://{folder}/sock/docker.sock"


def check_tools() -> None:
    if os.geteuid() != 0:
        raise SwarmUnavailableError(f"a swarm of private daemons needs root; uid {os.geteuid()}")
    missing = [t for t in ("dockerd", "nsenter", "ip", DOCKER) if shutil.which(t) is None]
    if missing:
        raise SwarmUnavailableError(f"missing programs: {', '.join(missing)}")


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr}")


def _start_dockerd(
    folder: Path, namespace: str, number: int, labels: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """dockerd for node ``number``, in the namespace, in its own session (nsenter and env
    exec it: the process is dockerd itself)."""
    (folder / "sock").mkdir(parents=True)
    containerd = f"volplan-swarm-{os.getpid()}-{number}"  # should it share a system containerd
    command = [
        "nsenter", f"--net=/run/netns/{namespace}",
        "env", "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1",
        "dockerd", "--config-file", str(_empty_config(folder)),
        "--data-root", str(folder / "data"), "--exec-root", str(folder / "exec"),
        "--pidfile", str(folder / "docker.pid"), "-H", _host(folder),
        "--containerd-namespace", containerd,
        "--containerd-plugins-namespace", f"{containerd}-plugins",
        "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false",
        "--default-address-pool", f"base=127.20{number}.0.0/16,size=24",
        "--shutdown-timeout=5",
        *(f"--label={key}={value}" for key, value in labels.items()),
    ]  # fmt: skip
    with (folder / "dockerd.log").open("ab") as log:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )


def _empty_config(folder: Path) -> Path:
    """Not /etc/docker/daemon.json: nothing of the machine's own engine settings."""
    path = folder / "daemon.json"
    path.write_text("{}")
    return path


def _await(folder: Path) -> None:
    host = _host(folder)
    deadline = time.monotonic() + START_SECONDS
    while not _answers(host):
        if time.monotonic() > deadline:
            log = (folder / "dockerd.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"dockerd in {folder} did not answer in {START_SECONDS} s:\n{log}")
        time.sleep(0.2)


def _answers(host: str) -> bool:
    return (
        subprocess.run(
            [DOCKER, "-H", host, "info", "--format", "{{.ID}}"], capture_output=True, check=False
        ).returncode
        == 0
    )


def _load(host: str, image: ImageArchive) -> None:
    if image.tag is None:
        arguments = ["load", "-q"]
    else:
        changes = [arg for change in image.changes for arg in ("--change", change)]
        arguments = ["import", *changes, "-", image.tag]
    docker(host, *arguments, input=image.path.read_bytes())


def _form_swarm(
    cleanup: ExitStack, folder: Path, started: list[Path], hosts: list[str]
) -> tuple[SwarmNode, ...]:
    """Init on the first node, drop the two private-by-default networks, join the rest."""
    manager = hosts[0]
    docker(
        manager, "swarm", "init", "--advertise-addr", "127.0.0.1",
        "--listen-addr", "127.0.0.1:2377", "--default-addr-pool", "127.100.0.0/16",
        "--default-addr-pool-mask-length", "24",
    )  # fmt: skip
    cleanup.callback(docker, manager, "swarm", "leave", "--force", check=False)
    docker(manager, "network", "rm", "ingress", input=b"y\n")
    if "docker_gwbridge" in docker(manager, "network", "ls", "--format", "{{.Name}}").split():
        docker(manager, "network", "rm", "docker_gwbridge")  # made lazily: not always yet
    token = docker(manager, "swarm", "join-token", "-q", "worker").strip()
    for number, host in enumerate(hosts[1:], start=2):
        address = f"127.0.0.{number}"
        docker(
            host, "swarm", "join", "--token", token, "--advertise-addr", address,
            "--listen-addr", f"{address}:2377", "127.0.0.1:2377",
        )  # fmt: skip
        cleanup.callback(docker, host, "swarm", "leave", check=False)
    nodes = []
    bynode = folder / "bynode"
    bynode.mkdir()
    for number, (node_folder, host) in enumerate(zip(started, hosts, strict=True), start=1):
        node_id = docker(host, "info", "--format", "{{.Swarm.NodeID}}").strip()
        (bynode / node_id).symlink_to(node_folder / "sock")
        nodes.append(SwarmNode(number, node_folder, node_id))
    return tuple(nodes)


def _check_loopback_networks(host: str) -> None:
    """Every network's subnets are in 127/8: none in a private range, on any node."""
    names = docker(host, "network", "ls", "--format", "{{.Name}}").split()
    for network in json.loads(docker(host, "network", "inspect", *names)):
        for config in (network.get("IPAM") or {}).get("Config") or []:
            subnet = ipaddress.ip_network(config.get("Subnet", "127.0.0.0/8"))
            if not subnet.subnet_of(LOOPBACK):  # type: ignore[arg-type]
                raise RuntimeError(f"network {network['Name']} has subnet {subnet}: {host}")


def _remove_services(manager: SwarmNode) -> None:
    """Services first, so that their tasks stop before their nodes leave."""
    services = manager.docker("service", "ls", "-q", check=False).split()
    if services:
        manager.docker("service", "rm", *services, check=False)


def _terminate(daemons: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM the daemons this module started, all at once; SIGKILL those that outlive
    STOP_SECONDS."""
    for daemon in daemons:
        daemon.terminate()
    for daemon in daemons:
        try:
            daemon.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def _unmount_under(folder: Path) -> None:
    """What the daemons left mounted (their namespaces' files under exec/netns, overlays)."""
    prefix = f"{folder}/"
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(prefix)), reverse=True):
        _unmount(Path(mount))


def _unmount(mount: Path) -> None:
    """Unmount, lazily if something still holds it (it goes once nothing does)."""
    if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
