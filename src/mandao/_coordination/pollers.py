"""One poller per serial and kind (replies, reports), across threads, processes and, on
PostgreSQL, machines: the rendezvous that keeps two workers from both polling ``mo``.

A poller holds its slot for as long as it polls: in this process a lock; beside an SQLite
journal an exclusive ``flock`` of a file in the journal's ``-serials`` folder (the kernel
lets it go when the process dies, however it dies); on PostgreSQL a session advisory
lock on a connection of its own (the server lets it go when the connection drops). A
second poller waits, looking again every poll interval, until the first stops.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import JournalError
from .files import beside

if TYPE_CHECKING:
    from .._journal import Journal

__all__ = ["poller"]

_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _key(journal: Journal, sn: str, kind: str) -> str:
    return f"{journal.label}\x1f{sn}\x1f{kind}"


@contextmanager
def poller(
    journal: Journal, sn: str, kind: str, wait: Callable[[float], bool], every: float
) -> Iterator[bool]:
    """Hold the slot of ``sn``'s ``kind`` poller; yields True once held, or False when
    ``wait(every)`` (called between looks) returned True: asked to stop first.

    Raises:
        JournalError: the lock file or the database could not be used.
    """
    key = _key(journal, sn, kind)
    with _GUARD:
        local = _LOCKS.setdefault(key, threading.Lock())
    while not local.acquire(blocking=False):
        if wait(every):
            yield False
            return
    try:
        with _shared(journal, key, wait, every) as held:
            yield held
    finally:
        local.release()


@contextmanager
def _shared(
    journal: Journal, key: str, wait: Callable[[float], bool], every: float
) -> Iterator[bool]:
    if journal.kind == "postgresql":
        with _advisory(journal, key, wait, every) as held:
            yield held
        return
    folder = beside(Path(journal.location))
    path = folder / ("poll-" + hashlib.sha256(key.encode()).hexdigest()[:24])
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise JournalError(f"cannot use the poller lock {path}: {exc.strerror}") from None
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if wait(every):
                    yield False
                    return
        yield True
    finally:
        os.close(fd)  # the lock goes with the descriptor


@contextmanager
def _advisory(
    journal: Journal, key: str, wait: Callable[[float], bool], every: float
) -> Iterator[bool]:
    # An advisory lock is the database's own: its key is the serial and kind only, so two
    # URLs of one database (another host name, another option) share it.
    serial_kind = key.partition("\x1f")[2].encode()
    lock = int.from_bytes(hashlib.sha256(serial_kind).digest()[:8], "big", signed=True)
    database: Any = journal._database
    try:
        conn = database.connect()
    except Exception as exc:  # psycopg's errors, their text scrubbed by the journal
        raise database._error("hold a poller's lock in", exc) from None
    try:
        while not _try(database, conn, lock):
            if wait(every):
                yield False
                return
        yield True
    finally:
        conn.close()  # the session's lock goes with it


def _try(database: Any, conn: Any, lock: int) -> bool:
    try:
        return bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (lock,)).fetchone()[0])
    except Exception as exc:
        raise database._error("hold a poller's lock in", exc) from None
