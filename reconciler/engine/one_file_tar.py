"""A tar archive holding one file: what ``put_file`` sends through the archive endpoint. Pure.

Its own module so that ``tarfile`` is loaded only by a run that writes a file (the lock's
lease), not by every command's start-up.
"""

from __future__ import annotations

import io
import tarfile


def tar_of_file(name: str, content: bytes) -> bytes:
    """A tar holding one regular file ``name`` (mode 0644, owned by root, time 0)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        member = tarfile.TarInfo(name)
        member.size = len(content)
        archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()
