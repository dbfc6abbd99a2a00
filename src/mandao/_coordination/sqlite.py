"""A serial's admission state for the processes of one machine: a file beside the journal.

The file is the journal's path with ``-serials`` added (``journal.sqlite3-serials``), in
WAL mode with ``synchronous=NORMAL``, as the journal. It is apart from the journal so a
send's admission never waits for another process's journal write. Every process opens it
on its first request; a forked child opens its own connection. The machine's wall clock
times the leases (every process of the machine reads the same one).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._core.failover import FailoverPolicy
from .._core.hosts import HostGroups
from .._errors import JournalError
from .leases import TABLES, LeasedState, Query

__all__ = ["SqliteState", "beside"]

#: Seconds to wait for another process's transaction on the file.
BUSY = 30.0


def beside(journal: Path) -> Path:
    """The admission file of the journal at ``journal``."""
    return journal.with_name(journal.name + "-serials")


class SqliteState(LeasedState):
    """One serial's admission state in the file beside the SQLite journal at ``journal``."""

    def __init__(
        self,
        journal: Path,
        sn: str,
        groups: HostGroups,
        policy: FailoverPolicy,
        limit: int | None,
    ) -> None:
        self._path = beside(journal)
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        super().__init__(sn, groups, policy, limit)

    def restart(self) -> None:
        self._conn = None  # the parent's: never used, nor closed, here
        super().restart()

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
            conn = sqlite3.connect(
                self._path, timeout=BUSY, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY * 1000)}")
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            for sql in TABLES:
                conn.execute(sql)
            conn.execute("COMMIT")
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(
                f"cannot open the serial's admission file {self._path}: {exc}; check that "
                "the journal's folder is writable"
            ) from exc
        self._conn, self._pid = conn, os.getpid()
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Query, float]]:
        conn = self._connect()

        def q(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
            return conn.execute(sql, params).fetchall()

        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot lock the admission file {self._path}: {exc}") from exc
        try:
            yield q, time.time()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
