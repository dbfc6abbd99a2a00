"""The journal's schema on both backends: its tables, its version, and the migrations.

Versions (SQLite files have all of them; PostgreSQL journals start at 3):

1. The first schema (``meta`` a rowid table). Its files record no version.
2. ``meta`` is a ``WITHOUT ROWID`` table: writing the head touches one page, not two (a
   table page and its key's index). Files made by mandao before versions were recorded
   are 1 or 2, told apart by ``meta``'s SQL; from here on the version is recorded.
3. ``sent``, the duplicate guard's index (:mod:`~.sent`). It starts empty: the guard's
   first look indexes what the journal already holds.
4. What comes back (:mod:`~.inbound`): raw fetches, replies, delivery reports, cursors,
   the suppression list, resolutions of attempts; and an index of the send rows' rrids.

The tables are declared once, in SQLite's words (:mod:`~.columns` for ``entries``,
:data:`TABLES` for the rest); :func:`postgresql` turns a declaration into PostgreSQL's.
Migrations never touch ``entries`` rows' hashed values, so the chain of old rows keeps
verifying.

To change the schema: change the declaration and add one function per backend,
``@migration(N)`` and ``@migration(N, "postgresql")``, each bringing a journal of version
N-1 to N inside the opening transaction (without committing). ``tests/test_journal_store.py``
checks that an SQLite journal of every earlier version, migrated, has the very schema of
a new one, and that its chain still verifies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import inbound
from .columns import TABLE
from .database import Dialects, Kind
from .sent import TABLE as SENT

__all__ = ["FIRST", "INDEXES", "META", "SCHEMA_VERSION", "TABLES", "migration", "migrations",
           "postgresql"]  # fmt: skip

#: Where the chain's head and anchor are kept (``key`` → ``SEQ:HASH``).
META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"

#: Every table of a new journal.
TABLES: tuple[str, ...] = (TABLE, META, SENT, *inbound.TABLES)

#: Every index of a new journal.
INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS entries_time ON entries (time)",
    "CREATE INDEX IF NOT EXISTS entries_attempt ON entries (attempt) WHERE attempt IS NOT NULL",
    *inbound.INDEXES,
)

#: The first version of each backend's journals.
FIRST: dict[Kind, int] = {"sqlite": 1, "postgresql": 3}

#: A step: given the backend's raw connection (sqlite3's or psycopg's), inside a transaction.
Migration = Callable[[Any], None]
_MIGRATIONS: dict[Kind, dict[int, Migration]] = {"sqlite": {}, "postgresql": {}}


def migration(version: int, kind: Kind = "sqlite") -> Callable[[Migration], Migration]:
    """Register the decorated function as the step of backend ``kind`` that brings a
    journal of version ``version - 1`` to ``version``; it must not commit."""

    def register(step: Migration) -> Migration:
        steps = _MIGRATIONS[kind]
        if version in steps or version <= FIRST[kind]:
            raise RuntimeError(f"{kind} migration {version} is defined twice, or is too low")
        steps[version] = step
        return step

    return register


def migrations(kind: Kind, version: int) -> list[Migration]:
    """The steps, in order, that bring a ``kind`` journal of ``version`` to the current one."""
    steps = _MIGRATIONS[kind]
    return [steps[step] for step in range(version + 1, SCHEMA_VERSION + 1)]


@migration(2)
def _meta_without_rowid(conn: Any) -> None:
    """Rebuild ``meta`` as a ``WITHOUT ROWID`` table, keeping its rows (head, anchor)."""
    conn.execute("ALTER TABLE meta RENAME TO meta_v1")
    conn.execute(META)
    conn.execute("INSERT INTO meta (key, value) SELECT key, value FROM meta_v1")
    conn.execute("DROP TABLE meta_v1")


@migration(3)
def _duplicate_index(conn: Any) -> None:
    """Add the duplicate guard's index, empty (its mark absent: nothing indexed yet)."""
    conn.execute(SENT)


@migration(4)
def _inbound(conn: Any) -> None:
    """Add the tables of what comes back, empty (their indexes come with every opening)."""
    for sql in inbound.TABLES:
        conn.execute(sql)


@migration(4, "postgresql")
def _inbound_postgresql(conn: Any) -> None:
    """As :func:`_inbound`, in PostgreSQL's words."""
    for sql in inbound.TABLES:
        conn.execute(postgresql(sql))


#: The version this code writes: the last migration's.
SCHEMA_VERSION = max(_MIGRATIONS["sqlite"])

_missing = set(range(FIRST["postgresql"] + 1, SCHEMA_VERSION + 1)) - set(_MIGRATIONS["postgresql"])
if _missing:  # pragma: no cover - a schema change made for one backend only
    raise RuntimeError(f"no PostgreSQL migration to version(s) {sorted(_missing)}")

# SQLite's column types and storage, as PostgreSQL names them: seq and pid can pass
# 2**31, and REAL must stay a double so that rows hash alike on both.
_TYPES = ((re.compile(r"\bINTEGER\b"), "BIGINT"), (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
          (re.compile(r"\s+WITHOUT ROWID\b"), ""))  # fmt: skip


def postgresql(declaration: str) -> str:
    """A CREATE statement of :data:`TABLES` or :data:`INDEXES`, in PostgreSQL's words.

    >>> postgresql("CREATE TABLE t (seq INTEGER PRIMARY KEY, x REAL) WITHOUT ROWID")
    'CREATE TABLE t (seq BIGINT PRIMARY KEY, x DOUBLE PRECISION)'
    """
    if isinstance(declaration, Dialects):
        return declaration.postgresql
    for pattern, replacement in _TYPES:
        declaration = pattern.sub(replacement, declaration)
    return declaration
