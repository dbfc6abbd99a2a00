"""Which database a journal location names, opened: SQLite, or PostgreSQL (psycopg is
imported only for such a journal)."""

from __future__ import annotations

import os
from pathlib import Path

from .._client_checks import foreign_scheme
from .._errors import JournalError
from .database import Database, is_url
from .sqlite import SQLite
from .store import default_journal_location

__all__ = ["open_database"]


def open_database(
    location: str | os.PathLike[str] | None, durable: bool, timeout: float
) -> Database:
    """The database a journal location names: an SQLite file or a PostgreSQL URL (None:
    the default location)."""
    if location is None:
        location = default_journal_location()
    if is_url(location):
        try:
            from .postgresql import PostgreSQL  # psycopg: imported only for such a journal
        except ImportError as exc:
            raise JournalError(
                f"a PostgreSQL journal needs psycopg ({exc}): pip install 'mandao[postgresql]'"
            ) from None
        return PostgreSQL(str(location), timeout=timeout)
    if refused := foreign_scheme(location):
        raise JournalError(refused)
    return SQLite(Path(location).expanduser(), durable=durable, timeout=timeout)
