"""The live topology (``volplan status``) for a person at a terminal. Pure."""

from __future__ import annotations

from rich.text import Text

from reconciler.live.status import Topology, Use, VolumeNode, is_anonymous_name


def render_status(topology: Topology) -> Text:
    engine = topology.engine
    scope = f"projects: {', '.join(topology.projects)}" if topology.projects else "whole engine"
    text = Text(
        f"Topology of {engine.endpoint} (Docker {engine.server_version}, "
        f"API {engine.api_version}), {scope}\n"
    )
    text.append_text(_heading("Volumes", len(topology.volumes)))
    for volume in topology.volumes:
        text.append_text(_volume(volume))
    text.append_text(_heading("Data-volume containers", len(topology.data_containers)))
    for data in topology.data_containers:
        mounts = ", ".join(f"{_short(m.source)}:{m.target}" for m in data.mounts) or "no mounts"
        text.append(f"  {data.name} ({data.status}): {mounts}\n")
        for user, mode in data.users:
            text.append(f"    used by {user} (volumes_from, {mode})\n")
    text.append_text(_heading("Bind mounts", len(topology.binds)))
    for bind in topology.binds:
        text.append(f"  {bind.host_path}\n")
        text.append_text(_uses(bind.users))
    dangling = topology.dangling
    text.append_text(_heading("Dangling volumes", len(dangling)))
    text.append(
        "".join(
            f"  {_short(n)}{' (anonymous)' if is_anonymous_name(n) else ''}\n" for n in dangling
        )
    )
    return text


def _heading(title: str, count: int) -> Text:
    return Text(f"\n{title} ({count}):{'' if count else ' none'}\n", style="bold")


def _volume(volume: VolumeNode) -> Text:
    size = human_size(volume.size) if volume.size is not None else "size unknown"
    if volume.project:
        tags = [f"project {volume.project}"]
    elif volume.adopted_by:
        tags = [f"unlabelled, adopted by project {volume.adopted_by}"]
    else:
        tags = ["unlabelled"]
    if volume.protected:
        tags.append("protected")
    line = Text(f"  {_title(volume)}  {volume.driver}  {size}  [{', '.join(tags)}]\n")
    line.append(f"    at {volume.mountpoint}\n", style="dim")
    if not volume.users:
        line.append("    used by no container (dangling)\n", style="yellow")
    line.append_text(_uses(volume.users, image_volume=volume.image_volume))
    return line


def _uses(uses: tuple[Use, ...], *, image_volume: bool = False) -> Text:
    text = Text()
    for use in uses:
        flags = ["ro" if use.read_only else "rw"]
        if use.via:
            flags.append(f"via volumes_from {use.via}")
        if image_volume:
            flags.append("image volume")
        text.append(f"    {use.container}:{use.target} ({', '.join(flags)})\n")
    return text


def _title(volume: VolumeNode) -> str:
    """An anonymous volume by whose it is, ``dbstore:/dbdata (anonymous a029b488b459)``, or
    ``db:/var/lib/postgresql/data (image volume 804afbae8066)`` for an image's ``VOLUME``."""
    if not volume.anonymous:
        return volume.name
    kind = "image volume" if volume.image_volume else "anonymous"
    return f"{volume.owner or 'unmounted'} ({kind} {_short(volume.name)})"


def _short(name: str) -> str:
    """Anonymous volume names are 64 hex digits; 12 are enough to tell them apart."""
    return name[:12] if is_anonymous_name(name) else name


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
