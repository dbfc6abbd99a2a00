"""Outcome rows held briefly and written with the next row, so a send costs one write.

The ``pending`` row of an attempt is always written, in its own transaction, before the
request leaves. Its outcome row may instead be held in memory and written in the same
transaction as the next row this process appends (the next attempt's ``pending`` row),
or after ``DELAY`` by one timer thread when nothing else comes, or when the journal is
read, closed, or the interpreter exits. If the process is killed while an outcome is held
(at most about ``DELAY`` after the answer), that attempt stays ``pending``: shown as
outcome unknown, never as something it was not.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import Callable

__all__ = ["DELAY", "HeldRows"]

#: How long an outcome waits for the next row before the timer writes it.
DELAY = 0.05

Row = dict[str, object]

_live: weakref.WeakSet[HeldRows] = weakref.WeakSet()
_wake = threading.Event()
_timer_pid = -1
_timer_lock = threading.Lock()


class HeldRows:
    """Rows waiting for the next write; the owner's lock guards ``add`` and ``take``."""

    def __init__(self, flush: Callable[[], object]) -> None:
        self._flush = flush
        self._rows: list[Row] = []
        self._pid = os.getpid()

    def __bool__(self) -> bool:
        return bool(self._rows) and self._pid == os.getpid()

    def add(self, row: Row) -> None:
        """Hold ``row`` (under the owner's lock); the timer writes it if nothing else does."""
        if self._pid != os.getpid():
            # A forked child has a copy of the parent's rows, which the parent writes.
            self._rows, self._pid = [], os.getpid()
        self._rows.append(row)
        _live.add(self)
        _start_timer()
        _wake.set()

    def take(self) -> list[Row]:
        """The held rows, now the caller's to write (under the owner's lock)."""
        if self._pid != os.getpid() or not self._rows:
            return []
        rows, self._rows = self._rows, []
        return rows

    def give_back(self, rows: list[Row]) -> None:
        """Rows whose write failed, held again ahead of any newer ones."""
        self._rows[:0] = rows


def _start_timer() -> None:
    """One timer thread per process, for every journal."""
    global _timer_pid
    if _timer_pid == os.getpid():
        return
    with _timer_lock:
        if _timer_pid != os.getpid():
            _timer_pid = os.getpid()
            threading.Thread(target=_timer, name="mandao-journal", daemon=True).start()


def _timer() -> None:
    pause = threading.Event()
    while True:
        _wake.wait()
        _wake.clear()
        # Give the next send a moment to carry the rows in its own transaction.
        pause.wait(DELAY)
        _flush_all()


@atexit.register
def _flush_all() -> None:
    for held in list(_live):
        if held:
            try:
                held._flush()
            except Exception:  # noqa: S112 (the rows stay held; the next write retries)
                continue
