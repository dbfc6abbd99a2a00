"""The journal's SQLite file: opening it, its schema, and the migrations between versions.

The schema's version is kept in the file (``PRAGMA user_version``). Opening a journal
brings it to :data:`SCHEMA_VERSION` in one ``BEGIN IMMEDIATE`` transaction, whoever opens it
first: a new file gets the current schema at once, an older one runs each migration from
its version up, in order. Migrations never touch ``entries`` rows' hashed values, so the
chain of old rows keeps verifying.

Versions:

1. The first schema (``meta`` a rowid table). Its files record no version.
2. ``meta`` is a ``WITHOUT ROWID`` table: writing the head touches one page, not two (a
   table page and its key's index). Files made by mandao before versions were recorded
   are 1 or 2, told apart by ``meta``'s SQL; from here on the version is recorded.
3. ``sent``, the duplicate guard's index (:mod:`~.sent`). It starts empty: the guard's
   first look indexes what the journal already holds.

To change the schema: change the declaration (:mod:`~.columns` for ``entries``,
:data:`TABLES` for the rest) and add one function, ``@migration(N)``, that brings a journal
of version N-1 to N. ``tests/test_journal_store.py`` checks that a journal of every earlier
version, migrated, has the very schema of a new one, and that its chain still verifies.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from .._errors import JournalError
from .columns import TABLE
from .sent import TABLE as SENT

__all__ = ["INDEXES", "SCHEMA_VERSION", "TABLES", "connect", "default_journal_path",
           "migration", "schema_version"]  # fmt: skip

#: Where the chain's head and anchor are kept (``key`` → ``SEQ:HASH``).
META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"

#: Every table of a new journal.
TABLES: tuple[str, ...] = (TABLE, META, SENT)

#: Every index of a new journal.
INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS entries_time ON entries (time)",
    "CREATE INDEX IF NOT EXISTS entries_attempt ON entries (attempt) WHERE attempt IS NOT NULL",
)

Migration = Callable[[sqlite3.Connection], None]
_MIGRATIONS: dict[int, Migration] = {}


def migration(version: int) -> Callable[[Migration], Migration]:
    """Register the decorated function as the step that brings version ``version - 1`` to
    ``version``; it runs inside the opening transaction and must not commit."""

    def register(step: Migration) -> Migration:
        if version in _MIGRATIONS or version < 2:
            raise RuntimeError(f"migration {version} is defined twice, or is below 2")
        _MIGRATIONS[version] = step
        return step

    return register


@migration(2)
def _meta_without_rowid(conn: sqlite3.Connection) -> None:
    """Rebuild ``meta`` as a ``WITHOUT ROWID`` table, keeping its rows (head, anchor)."""
    conn.execute("ALTER TABLE meta RENAME TO meta_v1")
    conn.execute(META)
    conn.execute("INSERT INTO meta (key, value) SELECT key, value FROM meta_v1")
    conn.execute("DROP TABLE meta_v1")


@migration(3)
def _duplicate_index(conn: sqlite3.Connection) -> None:
    """Add the duplicate guard's index, empty (its mark absent: nothing indexed yet)."""
    conn.execute(SENT)


#: The version this code writes: the last migration's.
SCHEMA_VERSION = max(_MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The version of the journal open on ``conn``: 0 for a file with no tables yet."""
    (recorded,) = conn.execute("PRAGMA user_version").fetchone()
    if recorded:
        return int(recorded)
    found = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    if "entries" not in found:
        return 0
    # Versions 1 and 2 were not recorded in the file; their meta tables tell them apart.
    return 2 if "WITHOUT ROWID" in str(found.get("meta") or "").upper() else 1


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the journal to :data:`SCHEMA_VERSION`, unless it already is (one check)."""
    (recorded,) = conn.execute("PRAGMA user_version").fetchone()
    if recorded == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(conn)  # again: another process may have migrated meanwhile
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal {path} has schema version {version}, newer than this mandao "
                f"knows ({SCHEMA_VERSION}): upgrade mandao to use it"
            )
        if version == 0:
            for sql in (*TABLES, *INDEXES):
                conn.execute(sql)
        else:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[step](conn)
            for sql in INDEXES:
                conn.execute(sql)
        # PRAGMA takes no parameters; SCHEMA_VERSION is an int of ours.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def default_journal_path() -> Path:
    """``$MANDAO_JOURNAL`` if set, else ``journal.sqlite3`` in the user data directory."""
    given = os.environ.get("MANDAO_JOURNAL")
    if given:
        return Path(given).expanduser()
    import platformdirs

    return platformdirs.user_data_path("mandao", appauthor=False) / "journal.sqlite3"


def _write_ahead(conn: sqlite3.Connection, timeout: float) -> None:
    """Put the journal in WAL mode (a lasting property of the file), once.

    Switching the mode takes the file alone and does not wait in SQLite's busy handler:
    two connections opening a new journal at once (threads of a process, or processes)
    would see "database is locked". So the switch is made only if the file is not in WAL
    mode yet, and retried for up to ``timeout`` while another connection holds the file.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)  # another connection is creating or migrating the file


def connect(path: Path, *, timeout: float, durable: bool) -> sqlite3.Connection:
    """Open (creating it 0600, its new folder 0700) and migrate the journal at ``path``.

    Raises:
        JournalError: the file cannot be created, opened or migrated.
    """
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)
        # Create the file 0600 ourselves: SQLite gives its -wal and -shm files its mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError as exc:
        raise JournalError(f"cannot create the journal {path}: {exc}") from exc
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        _write_ahead(conn, timeout)
        conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        # Neither changes what a commit promises. A larger page cache keeps the duplicate
        # index's pages in memory, and checkpointing every 16 MiB of WAL, not 4, copies a
        # page the index touches in many commits to the file once (each checkpoint is an
        # fsync or two): the index's writes fall at random all over its B-tree.
        conn.execute("PRAGMA cache_size = -16384")
        conn.execute("PRAGMA wal_autocheckpoint = 4096")
        _migrate(conn, path)
    except (sqlite3.Error, JournalError) as exc:
        conn.close()
        if isinstance(exc, JournalError):
            raise
        raise JournalError(f"cannot open the journal {path}: {exc}") from exc
    return conn
