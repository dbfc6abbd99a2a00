"""Fetch answers the journal could not keep, in files until it can.

``mo`` gives each reply once: an answer that arrived but could not be committed (SQLite
locked past its busy timeout, a PostgreSQL server gone) would be lost, an opt-out among
it. Such an answer goes to a file of its own, written whole (a temporary file renamed into
place, synced), readable by the user alone; the next fetch of the serial keeps the files'
answers in the journal first, then removes them, and decodes them with what it fetched.

The folder: beside an SQLite journal ``journal.sqlite3``, ``journal.sqlite3-unkept``; for
a PostgreSQL journal, ``unkept/<its URL's hash>`` in the user data folder.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .journal import Journal

__all__ = ["folder", "spool", "spooled"]


def folder(journal: Journal) -> Path:
    """Where the answers ``journal`` could not keep wait."""
    location = journal.location
    if isinstance(location, Path):
        return location.with_name(location.name + "-unkept")
    import platformdirs

    digest = hashlib.sha256(journal.label.encode()).hexdigest()[:24]
    return platformdirs.user_data_path("mandao", appauthor=False) / "unkept" / digest


def spool(journal: Journal, sn: str, source: str, raw: str) -> Path:
    """Write ``raw``, ``source``'s answer for ``sn``, to a file of its own; its path."""
    where = folder(journal)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = where / f"{sn}.{source}.{time.time_ns()}.{os.getpid()}.txt"
    part = path.with_suffix(".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, raw.encode("utf-8", "surrogatepass"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(part, path)
    return path


def spooled(journal: Journal, sn: str, sources: tuple[str, ...]) -> list[tuple[Path, str, str]]:
    """The files waiting for ``sn`` from ``sources``, oldest first: (path, source, raw)."""
    where = folder(journal)
    if not where.is_dir():
        return []
    found = []
    for path in where.glob(f"{sn}.*.txt"):
        source = path.name[len(sn) + 1 :].split(".")[0]
        if source in sources:
            stamp = int(path.name.split(".")[-3])
            found.append((stamp, path, source))
    return [
        (path, source, path.read_bytes().decode("utf-8", "surrogatepass"))
        for _, path, source in sorted(found)
    ]
