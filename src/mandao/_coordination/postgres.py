"""A serial's admission state for processes on many machines: a PostgreSQL journal's database.

The tables of :mod:`~.leases`, in the journal's database. A transaction locks the serial's
row (``SELECT ... FOR UPDATE``), so the processes of every machine take turns on it; the
database's clock, never a machine's, times the leases and cool-downs. A lease is a row that
runs out: a dead connection or a dead machine leaves it to end on its own, one read timeout
at the least after its request was written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .._core.failover import FailoverPolicy
from .._core.hosts import HostGroups
from .._errors import JournalError
from .leases import TABLES, LeasedState, Query

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresState", "public_url"]

#: Any number taken once for the lock that keeps two processes from making the tables at once.
_SCHEMA_LOCK = 0x6D616E64616F


def public_url(url: str) -> str:
    """``url`` without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return re.sub(r"(?i)password=[^&\s]*", "password=***", url)
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _dialect(sql: str) -> str:
    """A statement of :mod:`~.leases` in PostgreSQL's words."""
    return (
        sql.replace("?", "%s")
        .replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")
        .replace(" REAL", " DOUBLE PRECISION")
    )


class PostgresState(LeasedState):
    """One serial's admission state in the PostgreSQL database at ``url``."""

    _select_serial = LeasedState._select_serial + " FOR UPDATE"
    _insert_serial = "INSERT INTO mandao_serials (key) VALUES (?) ON CONFLICT DO NOTHING"

    def __init__(
        self, url: str, sn: str, groups: HostGroups, policy: FailoverPolicy, limit: int | None
    ) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None
        self._pid = -1
        super().__init__(sn, groups, policy, limit)

    def restart(self) -> None:
        self._conn = None  # the parent's connection: never used, nor closed, here
        super().restart()

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is not None and self._pid == os.getpid() and not self._conn.closed:
            return self._conn
        import psycopg

        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for sql in TABLES:
                    conn.execute(_dialect(sql))
        except psycopg.Error as exc:
            raise JournalError(
                f"cannot open the serial's admission tables in {public_url(self._url)}: "
                f"{type(exc).__name__}; check that the server runs and the URL is right"
            ) from None
        self._conn, self._pid = conn, os.getpid()
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Query, float]]:
        import psycopg

        conn = self._connect()

        def q(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
            cursor = conn.execute(_dialect(sql), params)
            return cursor.fetchall() if cursor.description is not None else []

        try:
            with conn.transaction():
                (now,) = conn.execute(
                    "SELECT extract(epoch FROM clock_timestamp())::float8"
                ).fetchone() or (0.0,)
                yield q, float(now)
        except psycopg.OperationalError as exc:
            self._conn = None  # a dead connection: the next call makes a new one
            raise JournalError(
                f"lost the admission database {public_url(self._url)}: {type(exc).__name__}"
            ) from None
