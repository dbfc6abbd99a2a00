"""PostgreSQL for the tests: a real server, and an empty database for each test.

The server is, in order:

- ``$MANDAO_TEST_POSTGRESQL`` (a URL whose user may create databases), if set;
- else a throwaway cluster (:class:`mandao.testing._postgres.Cluster`) when Debian's server
  programs are installed, stopped and deleted at the end of the session;
- else none: the tests that need it are skipped, saying how to enable them, or fail
  when ``MANDAO_REQUIRE_POSTGRESQL=1`` (CI sets it, so they must run there).

Also here: raw SQL on either backend's journal, as someone tampering with it would.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

from mandao.testing._postgres import PASSWORD, PASSWORD_USER, Cluster, programs

ENV_URL = "MANDAO_TEST_POSTGRESQL"
ENV_REQUIRE = "MANDAO_REQUIRE_POSTGRESQL"
HOW = "install Debian's postgresql, or set MANDAO_TEST_POSTGRESQL=postgresql://..."


def unavailable(reason: str) -> NoReturn:
    """Skip the test that needs PostgreSQL (or fail it, when CI requires PostgreSQL)."""
    message = f"PostgreSQL tests need a server: {reason}; {HOW}"
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(f"{ENV_REQUIRE}=1, but {message}", pytrace=False)
    pytest.skip(message)


class Server:
    """A PostgreSQL server the tests may make databases on."""

    def __init__(self, admin_url: str, cluster: Cluster | None = None) -> None:
        self.admin_url = admin_url
        self.cluster = cluster  # ours: it has a user that must give a password

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.encode())

    def url(self, database: str) -> str:
        """The admin URL, naming ``database`` instead."""
        parts = urlsplit(self.admin_url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{parts.scheme}://{parts.netloc}/{database}{query}"

    def password_url(self, database: str) -> str | None:
        """``database``'s URL as the user who must give a password (our cluster only)."""
        if self.cluster is None:
            return None
        self._admin(f'GRANT ALL ON DATABASE "{database}" TO {PASSWORD_USER}')
        for sql in (
            f"GRANT ALL ON SCHEMA public TO {PASSWORD_USER}",
            f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {PASSWORD_USER}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {PASSWORD_USER}",
        ):
            self._admin_in(database, sql)
        return self.cluster.url(database, user=PASSWORD_USER, password=PASSWORD)

    def _admin_in(self, database: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql.encode())

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new, empty database for the block; its URL. Dropped after (its sessions ended)."""
        name = f"t_{secrets.token_hex(6)}"
        self._admin(f'CREATE DATABASE "{name}"')
        try:
            yield self.url(name)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def server() -> Iterator[Server | str]:
    """The session's server, or why there is none (see the module doc)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        yield "psycopg is not installed (pip install -e '.[test]')"
        return
    given = os.environ.get(ENV_URL)
    if given:
        yield Server(given)
        return
    if programs() is None:
        yield "no server programs in /usr/lib/postgresql/*/bin"
        return
    with Cluster() as cluster:
        yield Server(cluster.url(), cluster)


def is_postgresql(location: object) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def execute(location: Path | str, *statements: str, params: Sequence[object] = ()) -> None:
    """Run statements (``?`` placeholders) on a journal's database, behind its back."""
    if is_postgresql(location):
        import psycopg

        with psycopg.connect(str(location), autocommit=True) as conn, conn.transaction():
            for sql in statements:
                conn.execute(sql.replace("?", "%s").encode(), params or None)
        return
    conn = sqlite3.connect(location)
    with conn:
        for sql in statements:
            conn.execute(sql, params)
    conn.close()


def query(location: Path | str, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """The rows of a query (``?`` placeholders) on a journal's database."""
    if is_postgresql(location):
        import psycopg

        with psycopg.connect(str(location), autocommit=True) as conn:
            return conn.execute(sql.replace("?", "%s").encode(), params or None).fetchall()
    conn = sqlite3.connect(location)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
