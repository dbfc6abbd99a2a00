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
import weakref
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from .._errors import JournalError
from .database import Database
from .sent import index_attempt

__all__ = ["BACKGROUND", "index_later", "many", "wait"]

logger = logging.getLogger("mandao")

#: Attempts of more numbers than this are indexed in the background.
BACKGROUND = 100

_lock = threading.Lock()
#: This process's indexing thread, made on first use (a forked child makes its own).
_pool: ThreadPoolExecutor | None = None
#: Each database's last background write asked for (they run in order: the last one done,
#: all of its are).
_last: weakref.WeakKeyDictionary[Database, Future[None]] = weakref.WeakKeyDictionary()


def _forked() -> None:
    # The parent's thread is not in the child, nor are its writes; a lock it held stays
    # held for ever.
    global _lock, _pool
    _lock, _pool = threading.Lock(), None
    _last.clear()


os.register_at_fork(after_in_child=_forked)


def many(mobiles: str) -> bool:
    """Whether an attempt to ``mobiles`` (comma-joined) is indexed in the background."""
    return mobiles.count(",") >= BACKGROUND


def index_later(database: Database, seq: int, mobiles: str, texts: str | Sequence[str]) -> None:
    """Index attempt ``seq`` of ``database`` (just committed) in the background."""
    kept = texts if isinstance(texts, str) else tuple(texts)  # the caller may change its list

    def index() -> None:
        try:
            database.write("index", lambda conn: index_attempt(conn, seq, mobiles, kept))
        except JournalError as exc:
            logger.debug("journal: attempt %d is left to the next duplicate look: %s", seq, exc)

    global _pool
    # RuntimeError: the interpreter is shutting down; the next look indexes it.
    with _lock, contextlib.suppress(RuntimeError):
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="mandao-index")
        _last[database] = _pool.submit(index)


def wait(database: Database) -> None:
    """Until the background index writes asked for so far of ``database`` are made (each
    waits for the journal's lock at most its ``timeout``)."""
    with _lock:
        last = _last.get(database)
    if last is not None:
        last.result()
