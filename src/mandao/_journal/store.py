"""The journal's SQLite file: opening it, and bringing its schema to the current version.

The schema's version is kept in the file (``PRAGMA user_version``). Opening a journal
brings it to :data:`~.schema.SCHEMA_VERSION` in one ``BEGIN IMMEDIATE`` transaction,
whoever opens it first: a new file gets the current schema at once, an older one runs
each migration of :mod:`~.schema` from its version up, in order.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from .._errors import JournalError
from .database import is_url
from .schema import INDEXES, SCHEMA_VERSION, TABLES, migrations

__all__ = ["connect", "default_journal_location", "default_journal_path", "schema_version"]


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
            for step in migrations("sqlite", version):
                step(conn)
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


def default_journal_location() -> Path | str:
    """Where ``Journal()`` keeps the journal: ``$MANDAO_JOURNAL`` as given when it is a
    PostgreSQL URL, else :func:`default_journal_path`."""
    given = os.environ.get("MANDAO_JOURNAL", "")
    return given if is_url(given) else default_journal_path()


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


def connect(
    path: Path,
    *,
    timeout: float,
    durable: bool,
    factory: type[sqlite3.Connection] = sqlite3.Connection,
) -> sqlite3.Connection:
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
    conn = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=False, factory=factory
    )
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
