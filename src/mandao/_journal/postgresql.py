"""The journal in a PostgreSQL database that app servers on several machines share.

psycopg 3 (imported only when such a journal is opened), with a small pool of connections
per process: opened with the first use, closed by ``Journal.close()``. A forked child makes
its own pool and never touches its parent's connections. Commits keep the server's
durability (``synchronous_commit`` as the server has it, on by default): nothing here
turns it down, and ``durable=True`` asks for nothing more.

Appending keeps one chain however many machines write. Every append updates the head row
of ``meta``, so the head row is where writers queue:

- a journal that wrote the head last appends in one statement, one round trip: a
  ``WITH`` that moves the head row from the head it wrote to the new one, and inserts the
  row only if that update found it (:data:`_FAST`);
- otherwise (another writer moved the head), it reads the last row and tries once more;
- failing that, and for anything else that writes (a duplicate-index row, a prune), one
  transaction that first locks the head row (``SELECT ... FOR UPDATE``), as SQLite's
  ``BEGIN IMMEDIATE`` does.

A connection the server dropped (a restart, ``pg_terminate_backend``, a network cut) is
discarded and the pool checked. A read is then made again; an append too, unless the row
it sent is found in the table (its commit reached the server before the connection went),
so a row is never written twice. Other writes raise :class:`JournalError`.

The schema's version is in the table ``journal_schema``; a new database gets the current
schema, and a journal made by an older mandao is migrated, under an advisory lock, by
whoever opens it first.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from .._errors import JournalError
from . import database
from .chain import GENESIS, chained, head_of, write_rows
from .columns import COLUMNS, NAMES
from .database import SQL, Connection, Database, Dialects, Head, Kind, redact, secrets_of
from .schema import INDEXES, SCHEMA_VERSION, TABLES, migrations, postgresql

__all__ = ["PostgreSQL"]

T = TypeVar("T")
Raw = psycopg.Connection[tuple[Any, ...]]

_CASTS = {"INTEGER": "bigint", "TEXT": "text", "REAL": "double precision"}
#: One append in one statement: the head moves from what this journal wrote last, and the
#: row goes in only if it did (params: new head, old head, the row's values).
_SELECTED = ", ".join(f"%s::{_CASTS[c.sql.split()[0]]}" for c in COLUMNS)
_FAST = " ".join(
    (
        "WITH head AS (UPDATE meta SET value = %s WHERE key = 'head' AND value = %s RETURNING 1)",
        f"INSERT INTO entries ({', '.join(NAMES)}) SELECT {_SELECTED}",
        "WHERE EXISTS (SELECT 1 FROM head)",
    )
)
_LOCK = "SELECT value FROM meta WHERE key = 'head' FOR UPDATE"
_LANDED = "SELECT 1 FROM entries WHERE seq = %s AND hash = %s"
_VERSION = "CREATE TABLE IF NOT EXISTS journal_schema (version INTEGER NOT NULL)"
#: pg_advisory_xact_lock's key while a schema is made or migrated ("mandaoj" in ASCII).
_SCHEMA_LOCK = 0x6D616E64616F6A


def _statement(sql: SQL) -> str:
    """A statement as psycopg takes it: PostgreSQL's text, ``%s`` placeholders."""
    return _placeholders(sql.postgresql if isinstance(sql, Dialects) else sql)


@functools.lru_cache(maxsize=512)
def _placeholders(text: str) -> str:
    return text.replace("%", "%%").replace("?", "%s")


class _Connection:
    """psycopg's connection as :class:`~.database.Connection`."""

    __slots__ = ("raw",)
    kind: ClassVar[Kind] = "postgresql"

    def __init__(self, raw: Raw) -> None:
        self.raw = raw

    def execute(self, sql: SQL, params: Sequence[object] = (), /) -> psycopg.Cursor[Any]:
        return self.raw.execute(_statement(sql), params)

    def executemany(self, sql: SQL, rows: Iterable[Sequence[object]], /) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(_statement(sql), list(rows))

    def stream(self, sql: SQL, params: Sequence[object] = (), /) -> Iterator[tuple[Any, ...]]:
        if self.raw.info.transaction_status != TransactionStatus.INTRANS:
            yield from self.execute(sql, params)  # a server-side cursor needs a transaction
            return
        with self.raw.cursor(name="mandao_stream") as cursor:
            cursor.itersize = 5000
            cursor.execute(_statement(sql), params)
            yield from cursor


#: The most connections the pool keeps.
_POOL = 4


class _Lost(Exception):
    """The connection broke under a statement (``error``): discarded, the pool checked."""

    def __init__(self, error: psycopg.Error) -> None:
        super().__init__(error)
        self.error = error


class PostgreSQL(Database):
    """The journal in the database at ``url`` (a libpq URL; see :class:`~.journal.Journal`)."""

    kind: ClassVar[Kind] = "postgresql"

    def __init__(self, url: str, *, timeout: float) -> None:
        self._url = url  # with its password, if it has one: never shown
        self._secrets = secrets_of(url)
        self.location = self.label = redact(url)
        self._timeout = timeout
        try:
            given = conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise self._error(
                "open",
                exc,
                "write it as postgresql://user[:password]@host[:port]/database, or "
                "postgresql://user@/database?host=/socket/folder",
            ) from None
        self._kwargs: dict[str, Any] = {"autocommit": True}
        if "application_name" not in given:
            self._kwargs["application_name"] = "mandao"
        if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
            self._kwargs["connect_timeout"] = max(2, math.ceil(timeout))
        self._lock = threading.Lock()
        self._pool: ConnectionPool[Raw] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._pid = -1
        self._head: Head | None = None  # the head this process wrote last

    def __repr__(self) -> str:
        return f"<PostgreSQL journal {self.label}>"

    # -- connections -----------------------------------------------------------------
    def _error(self, what: str, exc: BaseException, hint: str = "") -> JournalError:
        message = database.scrubbed(exc, self._secrets)
        return JournalError(
            f"cannot {what} the journal {self.label}: {message}" + (f"; {hint}" if hint else "")
        )

    def _configure(self, conn: Raw) -> None:
        # A writer waits for the head row no longer than the journal's timeout; and reads,
        # once it has the row, what the writer before it committed: READ COMMITTED, whatever
        # the server's or the database's default (a SERIALIZABLE one would refuse every
        # writer that had to wait).
        conn.execute(
            "SELECT set_config('lock_timeout', %s, false), "
            "set_config('default_transaction_isolation', 'read committed', false)",
            (f"{int(self._timeout * 1000)}ms",),
        )

    def connect(self, **kwargs: Any) -> Raw:
        """A new connection of its own to the journal's database (autocommit, password
        and all); the caller closes it. For mandao's modules that share this database.

        Raises:
            psycopg.Error: as psycopg raises it (mind: its text may hold the URL).
        """
        conn = psycopg.connect(self._url, **{**self._kwargs, **kwargs})
        self._configure(conn)
        return conn

    def _pool_here(self) -> ConnectionPool[Raw]:
        """This process's pool, made (and the schema made or migrated) on first use."""
        pool, pid = self._pool, os.getpid()
        if pool is not None and self._pid == pid:
            return pool
        if self._pid != pid:
            self._lock = threading.Lock()  # a forked child's: the parent's may be held
        with self._lock:
            if self._pool is None or self._pid != pid:
                self._pool, self._head = None, None  # a parent's pool is left alone
                try:
                    with self.connect() as conn:
                        _prepare(conn, self.label)
                except psycopg.Error as exc:
                    raise self._error(
                        "open",
                        exc,
                        "check that the server runs and that the URL's user may use its "
                        "database (a password comes from the URL, PGPASSWORD or ~/.pgpass)",
                    ) from None
                pool = ConnectionPool(
                    self._url, kwargs=self._kwargs, min_size=1, max_size=_POOL, open=False,
                    configure=self._configure, timeout=max(self._timeout, 5.0), num_workers=1,
                    name="mandao-journal",
                )  # fmt: skip
                pool.open(wait=False)
                self._pool, self._pid = pool, pid
                # A journal dropped without close() closes its pool when it goes.
                self._finalizer = weakref.finalize(self, _close_pool, pool)
            return self._pool

    @contextmanager
    def connection(self) -> Iterator[Raw]:
        """A connection of this process's pool (autocommit), for the block; errors on a
        broken one are raised as :class:`_Lost`.

        Raises:
            JournalError: no connection within the journal's timeout.
        """
        pool = self._pool_here()
        try:
            with pool.connection() as raw:
                try:
                    yield raw
                except psycopg.Error as exc:
                    if raw.broken or raw.closed:
                        raise _Lost(exc) from exc
                    raise
        except PoolTimeout as exc:
            raise self._error(
                "connect to", exc, f"no connection within {self._timeout:g} s: is the server up?"
            ) from None

    def _recover(self) -> None:
        """After a lost connection: test the others, so the next use gets a working one."""
        pool = self._pool
        if pool is not None and self._pid == os.getpid():
            pool.check()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                if self._finalizer is not None:
                    self._finalizer.detach()
                self._pool.close()
            self._pool, self._head = None, None

    # -- transactions ------------------------------------------------------------------
    def read(self, work: Callable[[Connection], T], *, snapshot: bool = False) -> T:
        def once() -> T:
            with self.connection() as raw:
                if not snapshot:
                    return work(_Connection(raw))
                with raw.transaction():
                    raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    return work(_Connection(raw))

        try:
            return self._again(once)
        except (_Lost, psycopg.Error) as exc:
            raise self._error("read", exc.error if isinstance(exc, _Lost) else exc) from None

    def _again(self, once: Callable[[], T]) -> T:
        """``once()`` (a read: safe to make again), made again on another connection each
        time the one it used is lost. The server ending its sessions ends them one after
        another, so the pool's check may pass one that is ended the moment after: at most
        once per pooled connection, then once on a new one."""
        for tries in range(_POOL + 1):
            try:
                return once()
            except _Lost:
                if tries == _POOL:
                    raise
                self._recover()
        raise AssertionError("unreachable")  # pragma: no cover

    def write(self, what: str, work: Callable[[Connection], T]) -> T:
        try:
            with self.connection() as raw, raw.transaction():
                conn = _Connection(raw)
                conn.execute(_LOCK)
                self._head = None  # a write other than an append may move the chain (prune)
                return work(conn)
        except _Lost as lost:
            self._recover()
            raise self._error(what, lost.error, "the connection was lost") from None
        except psycopg.Error as exc:
            raise self._error(what, exc) from None

    def append(
        self,
        rows: Sequence[Mapping[str, object]],
        index: Callable[[Connection, int], None] | None = None,
    ) -> Head:
        sent: list[Head] = []  # the head each try sent, last first
        for last_try in (False, True):
            try:
                with self.connection() as raw:
                    head = self._append(_Connection(raw), rows, index, sent)
                self._head = head
                return head
            except _Lost as lost:
                self._head = None
                self._recover()
                if sent and self._landed(sent[0], lost.error):
                    return sent[0]
                if last_try:
                    raise self._error("write", lost.error, "the connection was lost") from None
            except psycopg.Error as exc:
                self._head = None
                raise self._error("write", exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _append(
        self,
        conn: _Connection,
        rows: Sequence[Mapping[str, object]],
        index: Callable[[Connection, int], None] | None,
        sent: list[Head],
    ) -> Head:
        known = self._head
        if index is None and len(rows) == 1:
            for _ in range(2):
                known = known or head_of(conn)
                lines, new = chained(rows, known)
                sent.insert(0, new)
                moved = (f"{new[0]}:{new[1]}", f"{known[0]}:{known[1]}", *lines[0])
                if conn.raw.execute(_FAST, moved).rowcount == 1:
                    return new
                known = None  # another writer moved the head: read it again
        with conn.raw.transaction():
            conn.execute(_LOCK)
            lines, new = chained(rows, head_of(conn))
            sent.insert(0, new)
            write_rows(conn, lines, new)
            if index is not None:
                index(conn, new[0])
        return new

    def _landed(self, head: Head, error: psycopg.Error) -> bool:
        """Whether the row whose commit was cut off made it (its seq with its hash)."""

        def once() -> bool:
            with self.connection() as raw:
                return raw.execute(_LANDED, head).fetchone() is not None

        try:
            return self._again(once)
        except (_Lost, psycopg.Error) as exc:
            raise self._error(
                "write",
                error,
                f"the connection was lost, and whether row {head[0]} was written is not known "
                f"({database.scrubbed(exc, self._secrets)}): `mandao journal pending` shows it",
            ) from None


def _close_pool(pool: ConnectionPool[Raw]) -> None:
    """Close ``pool`` of a journal that went without close(): here, or (when this runs in a
    thread of the pool's own, which the pool would have to join) in a thread of its own."""
    if threading.current_thread() is threading.main_thread():
        pool.close()
    else:
        threading.Thread(target=pool.close, name="mandao-journal-close", daemon=True).start()


def _version(conn: Raw) -> int:
    """The schema version the database records (0: no journal in it yet)."""
    (found,) = conn.execute("SELECT to_regclass('journal_schema') IS NOT NULL").fetchone() or (0,)
    if not found:
        return 0
    (version,) = conn.execute("SELECT max(version) FROM journal_schema").fetchone() or (0,)
    return int(version or 0)


def _prepare(conn: Raw, label: str) -> None:
    """Bring the database's journal to :data:`SCHEMA_VERSION`, unless it is (one check)."""
    try:
        (version,) = conn.execute("SELECT max(version) FROM journal_schema").fetchone() or (0,)
        if version == SCHEMA_VERSION:
            return
    except errors.UndefinedTable:
        pass
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        version = _version(conn)  # again, under the lock: another may have made it meanwhile
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal {label} has schema version {version}, newer than this mandao "
                f"knows ({SCHEMA_VERSION}): upgrade mandao to use it"
            )
        if version == 0:
            (taken,) = conn.execute("SELECT to_regclass('entries') IS NOT NULL").fetchone() or (0,)
            if taken:
                raise JournalError(
                    f"the database {label} has an entries table but no journal_schema: it "
                    "is not a mandao journal; give the journal a database of its own"
                )
            for sql in (*TABLES, *INDEXES, _VERSION):
                conn.execute(postgresql(sql))
            # The head row exists from the start: it is what writers lock.
            conn.execute("INSERT INTO meta (key, value) VALUES ('head', %s)", (f"0:{GENESIS}",))
            conn.execute("INSERT INTO journal_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
            return
        for step in migrations("postgresql", version):
            step(conn)
        for sql in INDEXES:
            conn.execute(postgresql(sql))
        conn.execute("UPDATE journal_schema SET version = %s", (SCHEMA_VERSION,))
