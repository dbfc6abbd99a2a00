"""A serial's admission board for processes on many machines: a PostgreSQL journal's database.

The boards of :mod:`~.board` are rows of ``mandao_serials`` in the journal's database. A
change is optimistic: read the board (with the database's clock, never a machine's), work
out the new one, and write it only if nobody wrote since (a version number); else read
again. That is two round trips and no lock held across them. A lease is an entry that runs
out: a dead connection or a dead machine leaves it to end on its own, one read timeout at
the least after its request was written.
"""

from __future__ import annotations

import atexit
import os
import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._core.failover import FailoverPolicy
from .._core.hosts import HostGroups
from .._errors import JournalError
from .._journal.database import redact, scrubbed, secrets_of
from .board import Board, BoardState, Step, T, decode, encode, fresh

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresState"]

#: Any number taken once for the lock that keeps two processes from making the tables at once.
_SCHEMA_LOCK = 0x6D616E64616F


TABLE = (
    "CREATE TABLE IF NOT EXISTS mandao_serials (key TEXT PRIMARY KEY, board BYTEA NOT NULL, "
    "version BIGINT NOT NULL)"
)


class PostgresState(BoardState):
    """One serial's admission board in a PostgreSQL database.

    ``database`` is its URL, or (from a PostgreSQL journal) a function that opens a new
    autocommit connection to it, password and all. The connection is closed at exit.
    """

    blocking = True  # two round trips to the database

    def __init__(
        self,
        database: str | Callable[[], psycopg.Connection[Any]],
        sn: str,
        groups: HostGroups,
        policy: FailoverPolicy,
        limit: int | None,
        *,
        label: str | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        """``secrets``: the password(s) of a ``database`` that is a function, which its
        errors' texts never show (a URL's own are found in it)."""
        self._secrets = secrets_of(database) if isinstance(database, str) else list(secrets)
        if isinstance(database, str):
            url = database

            def connect() -> psycopg.Connection[Any]:
                import psycopg

                return psycopg.connect(url, autocommit=True, connect_timeout=10)

            self._open, self._url = connect, label or redact(url)
        else:
            self._open, self._url = database, label or "the journal's database"
        self._conn: psycopg.Connection[Any] | None = None
        self._pid = -1
        super().__init__(sn, groups, policy, limit)
        atexit.register(self._close)

    def _close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()

    def restart(self) -> None:
        self._conn = None  # the parent's connection: never used, nor closed, here
        super().restart()

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is not None and self._pid == os.getpid() and not self._conn.closed:
            return self._conn
        import psycopg

        try:
            conn = self._open()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                conn.execute(TABLE)
                conn.execute(
                    "INSERT INTO mandao_serials (key, board, version) VALUES (%s, %s, 0) "
                    "ON CONFLICT DO NOTHING",
                    (self._key, encode(fresh())),
                )
        except psycopg.Error as exc:
            reason = scrubbed(exc, self._secrets)
            raise JournalError(
                f"cannot open the serial's admission board in {self._url}: {reason}; check "
                "that the server runs and that the URL's user may use its database (a "
                "password comes from the URL, PGPASSWORD or ~/.pgpass)"
            ) from None
        self._conn, self._pid = conn, os.getpid()
        return conn

    def others(self) -> list[tuple[str, Board, float]]:
        import psycopg

        try:
            rows = (
                self._connect()
                .execute(
                    "SELECT key, board, extract(epoch FROM clock_timestamp())::float8 "
                    "FROM mandao_serials WHERE starts_with(key, %s) AND key <> %s",
                    (self._serial, self._key),
                )
                .fetchall()
            )
        except psycopg.Error:
            return []  # advice only (a dead connection is the next change's to replace)
        return [(key, decode(bytes(data)), float(now)) for key, data, now in rows]

    def _update(self, step: Step[T]) -> T:
        import psycopg

        for attempt in (1, 2):
            try:
                return self._change(self._connect(), step)
            except psycopg.Error as exc:
                self._conn = None  # a dead connection: a new one for the next try
                if attempt == 2 or not isinstance(exc, psycopg.OperationalError):
                    raise JournalError(
                        f"lost the admission database {self._url}: {scrubbed(exc, self._secrets)}"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _change(self, conn: psycopg.Connection[Any], step: Step[T]) -> T:
        """Read, change and write the board, again while another writer wins the race
        (each try a few milliseconds apart at most, so none waits on another for long)."""
        tries = 0
        while True:
            row = conn.execute(
                "SELECT board, version, extract(epoch FROM clock_timestamp())::float8 "
                "FROM mandao_serials WHERE key = %s",
                (self._key,),
            ).fetchone()
            if row is None:  # deleted by hand: made again
                conn.execute(
                    "INSERT INTO mandao_serials (key, board, version) VALUES (%s, %s, 0) "
                    "ON CONFLICT DO NOTHING",
                    (self._key, encode(fresh())),
                )
                continue
            data, version, now = row
            board, answer = step(decode(bytes(data)), float(now))
            new = encode(board)
            if new == bytes(data):
                return answer  # unchanged (a waiter asking again, mostly): nothing to write
            written = conn.execute(
                "UPDATE mandao_serials SET board = %s, version = version + 1 "
                "WHERE key = %s AND version = %s",
                (new, self._key, version),
            )
            if written.rowcount == 1:
                return answer
            tries += 1
            time.sleep(random.uniform(0, min(0.005, 0.0002 * tries)))  # noqa: S311 (jitter)
