"""The duplicate index of a large attempt, written while its request is on its way.

Indexing a send of 1,000 numbers is 1,000 B-tree inserts and their pages in the commit: a
few milliseconds (5 ms on a slow machine), which, made in the transaction of the attempt's
``pending`` row, the request would wait for. So a journal that keeps the index writes the
index rows of an attempt of more than :data:`BACKGROUND` numbers in a transaction of their
own, in one thread of the process's, once the row is committed; the request leaves
meanwhile.

Nothing waits for it, because nothing needs it: the index is a shortcut (see
:mod:`~.sent`). Until the background write is made, the index's mark stays before the
attempt, so a look in the meantime (another thread's, another process's) indexes the
attempt itself from the journal's rows (``catch_up``), and the background write, finding
the mark moved, then does nothing. A write that fails, or a process that ends before it
is made, leaves the same gap to the next look. :meth:`~.journal.Journal.flush` waits for
the writes asked for so far (a journal's ``close`` too).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from .._errors import JournalError
from .database import Database
from .sent import index_attempt

__all__ = ["BACKGROUND", "index_later", "many", "wait"]

logger = logging.getLogger("mandao")

#: Attempts of more numbers than this are indexed in the background.
BACKGROUND = 100

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pid = -1


def _here() -> ThreadPoolExecutor:
    """This process's indexing thread (a forked child's own: the parent's is not in it)."""
    global _pool, _pid
    with _lock:
        if _pool is None or _pid != os.getpid():
            _pool, _pid = ThreadPoolExecutor(1, thread_name_prefix="mandao-index"), os.getpid()
        return _pool


def many(mobiles: str) -> bool:
    """Whether an attempt to ``mobiles`` (comma-joined) is indexed in the background."""
    return mobiles.count(",") >= BACKGROUND


def index_later(database: Database, seq: int, mobiles: str, texts: str | Sequence[str]) -> None:
    """Index attempt ``seq`` of ``database`` (just committed) in the background."""

    def index() -> None:
        try:
            database.write("index", lambda conn: index_attempt(conn, seq - 1, seq, mobiles, texts))
        except JournalError as exc:
            logger.debug("journal: attempt %d is left to the next duplicate look: %s", seq, exc)

    # RuntimeError: the interpreter is shutting down; the next look indexes it.
    with contextlib.suppress(RuntimeError):
        _here().submit(index)


def wait() -> None:
    """Until the background index writes asked for so far in this process are made."""
    with _lock:
        pool = _pool if _pid == os.getpid() else None
    if pool is not None:
        # RuntimeError: shutting down; its thread finishes them on its way out.
        with contextlib.suppress(RuntimeError):
            pool.submit(lambda: None).result()
