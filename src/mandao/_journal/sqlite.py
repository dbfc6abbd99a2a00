"""The journal in an SQLite file (WAL mode) that the threads and processes of one machine
share: one connection per process, one ``BEGIN IMMEDIATE`` transaction per write."""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

from .._errors import JournalError
from .chain import insert_rows
from .database import Connection, Database, Head, Kind
from .store import connect

__all__ = ["SQLite"]

T = TypeVar("T")


class _Connection(sqlite3.Connection):
    """sqlite3's connection, as :class:`~.database.Connection`: statements run as they
    are written (a :class:`~.database.Dialects` pair is SQLite's text), at sqlite3's speed."""

    def stream(self, sql: str, params: Sequence[object] = (), /) -> Iterator[tuple[Any, ...]]:
        return iter(self.execute(sql, params))


#: Every SQLite journal of the process, to give a forked child locks of its own.
_opened: weakref.WeakSet[SQLite] = weakref.WeakSet()


def _forked() -> None:
    # Another thread of the parent (the background indexer, the caller's) may have held a
    # journal's lock as it forked: it would stay held for ever in the child.
    for database in list(_opened):
        database._lock = threading.Lock()


os.register_at_fork(after_in_child=_forked)


class SQLite(Database):
    """The journal file at ``path`` (see :class:`~.journal.Journal` for the arguments)."""

    kind: ClassVar[Kind] = "sqlite"

    def __init__(self, path: Path, *, durable: bool, timeout: float) -> None:
        self.path = self.location = path
        self.label = str(path)
        self._durable, self._timeout = durable, timeout
        self._lock = threading.Lock()
        _opened.add(self)
        self._conn: _Connection | None = None
        self._pid = -1
        # The chain's head as this connection last wrote it, and the file's data_version
        # then: unchanged, no other connection has written since (see append).
        self._head: Head | None = None
        self._version = -1

    def connection(self) -> sqlite3.Connection:
        """This process's connection (a forked child opens its own); for tests and tools."""
        return self._connect()

    def _connect(self) -> _Connection:
        if self._conn is None or self._pid != os.getpid():
            made = connect(self.path, timeout=self._timeout, durable=self._durable,
                           factory=_Connection)  # fmt: skip
            conn = cast(_Connection, made)  # what the factory makes
            self._conn, self._pid, self._head = conn, os.getpid(), None
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    @contextmanager
    def _transaction(self, what: str, begin: str = "BEGIN IMMEDIATE") -> Iterator[_Connection]:
        """A transaction, committed when the block ends, rolled back (and the cached head
        forgotten) when it raises; SQLite's errors as JournalError. Hold the lock."""
        try:
            conn = self._connect()
            conn.execute(begin)
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                self._head = None
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise JournalError(f"cannot {what} the journal {self.path}: {exc}") from exc

    def read(self, work: Callable[[Connection], T], *, snapshot: bool = False) -> T:
        with self._lock:
            if snapshot:
                with self._transaction("read", "BEGIN") as conn:
                    return work(conn)
            try:
                return work(self._connect())
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the journal {self.path}: {exc}") from exc

    def write(self, what: str, work: Callable[[Connection], T]) -> T:
        with self._lock, self._transaction(what) as conn:
            self._head = None  # a write other than an append may move the chain (prune)
            return work(conn)

    def append(
        self,
        rows: Sequence[Mapping[str, object]],
        index: Callable[[Connection, int], None] | None = None,
    ) -> Head:
        with self._lock, self._transaction("write") as conn:
            # Read inside the write lock: data_version moves when another connection (a
            # thread's, a process's, sqlite3's) has committed since this one last did;
            # unmoved, the head this connection wrote is the head.
            (version,) = conn.execute("PRAGMA data_version").fetchone()
            known = self._head if version == self._version else None
            head = insert_rows(conn, *rows, head=known)
            if index is not None:
                index(conn, head[0])
            # Under the lock: another thread of this connection must not read the head of
            # before this append (a commit that fails forgets it again).
            self._head, self._version = head, version
        return head
