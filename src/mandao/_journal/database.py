"""The seam between the journal's logic and the database that keeps it: SQLite or PostgreSQL.

The journal's logic (:mod:`~.chain`, :mod:`~.sent`, :mod:`~.journal`) is written once,
against a :class:`Database` and the :class:`Connection` it lends; two backends carry it
out, :mod:`~.sqlite` (a file) and :mod:`~.postgresql` (a server that machines share).
What differs between them is kept here and in the backends, nowhere else:

- **Transactions.** :meth:`Database.write` is one writer at a time: SQLite's
  ``BEGIN IMMEDIATE``; on PostgreSQL, a transaction that first locks the chain's head row
  (every append updates that row, so every writer queues on it). :meth:`Database.read`
  with ``snapshot=True`` reads one consistent state while others write.
- **Appending.** :meth:`Database.append` chains rows after the true last row in one
  transaction. Each backend knows when the head it wrote last is still the head (SQLite:
  ``PRAGMA data_version``; PostgreSQL: a conditional update of the head row, so an append
  is one statement, one round trip).
- **Placeholders.** Statements are written with ``?``; PostgreSQL's connection turns them
  into ``%s`` (so no statement may hold a ``?`` or a ``%`` inside a literal).
- **Statements whose text differs** (``json_each`` or ``json_array_elements_text``,
  ``INSERT OR IGNORE`` or ``ON CONFLICT DO NOTHING``, ``instr`` or ``strpos``) are a
  :class:`Dialects` pair, side by side where they are used, and each connection runs its own.
- **Types and schema versions** (``INTEGER`` or ``BIGINT``, ``REAL`` or ``DOUBLE
  PRECISION``, ``PRAGMA user_version`` or a table): in the backends' schema code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from .._config_values import POSTGRESQL_SCHEMES

__all__ = [
    "SCHEMES",
    "SQL",
    "Connection",
    "Cursor",
    "Database",
    "Dialects",
    "Head",
    "Kind",
    "is_url",
    "label_of",
    "redact",
    "scrubbed",
    "secrets_of",
]

T = TypeVar("T")

#: The backends' names.
Kind = Literal["sqlite", "postgresql"]
#: A chain's head: the last row's ``(seq, hash)``.
Head = tuple[int, str]
#: URL schemes that name a PostgreSQL journal.
SCHEMES = POSTGRESQL_SCHEMES


class Dialects(str):
    """One statement in each backend's SQL, where the two differ (both with ``?``).

    It is the SQLite text (so sqlite3 runs it as it is, at no cost), and carries
    PostgreSQL's as :attr:`postgresql`. Joining it to more text gives plain text, SQLite's:
    make a new pair instead.
    """

    postgresql: str

    def __new__(cls, sqlite: str, postgresql: str) -> Dialects:
        made = super().__new__(cls, sqlite)
        made.postgresql = postgresql
        return made


#: A statement: text both backends run, or a :class:`Dialects` pair.
SQL = str


class Cursor(Protocol):
    """What a statement gives back (sqlite3's and psycopg's cursors both are one)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """A backend's connection, as the journal's logic uses it (inside one transaction
    of :meth:`Database.write` or :meth:`Database.read`)."""

    def execute(self, sql: SQL, params: Sequence[object] = (), /) -> Cursor:
        """Run one statement (``?`` placeholders)."""
        ...

    def executemany(self, sql: SQL, rows: Iterable[Sequence[object]], /) -> Any:
        """Run one statement for each row of parameters."""
        ...

    def stream(self, sql: SQL, params: Sequence[object] = (), /) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, read as they are iterated (not all held at once)."""
        ...


class Database(ABC):
    """Where a journal lives, and its transactions (see the module doc).

    Attributes:
        kind: ``"sqlite"`` or ``"postgresql"``.
        location: the SQLite file (a :class:`~pathlib.Path`), or the PostgreSQL URL
            without its password (a ``str`` libpq connects with, the password coming from
            ``PGPASSWORD`` or ``~/.pgpass``).
        label: how messages and reprs name it (never with a password).
    """

    kind: ClassVar[Kind]
    location: Path | str
    label: str

    @abstractmethod
    def read(self, work: Callable[[Connection], T], *, snapshot: bool = False) -> T:
        """``work(connection)``'s result; ``snapshot``: in one transaction that sees one state.

        Raises:
            JournalError: the database cannot be reached or read.
        """

    @abstractmethod
    def write(self, what: str, work: Callable[[Connection], T]) -> T:
        """``work(connection)``'s result, in one write transaction (one writer at a time),
        committed when this returns, rolled back if ``work`` raises.

        Raises:
            JournalError: the transaction failed (``what`` names it: "prune", "index").
        """

    @abstractmethod
    def append(
        self,
        rows: Sequence[Mapping[str, object]],
        index: Callable[[Connection, int], None] | None = None,
    ) -> Head:
        """Chain ``rows`` after the last row in one transaction, committed when this
        returns; then the new head. ``index(connection, seq)``: called inside that
        transaction with the last row's seq (the duplicate index's rows go with it).

        Raises:
            JournalError: nothing was appended.
        """

    @abstractmethod
    def close(self) -> None:
        """Close this process's connections (the next use opens them again)."""


def is_url(location: object) -> bool:
    """Whether a journal location is a PostgreSQL URL (else it is an SQLite file).

    >>> is_url("postgresql://mandao@db.example/mandao"), is_url("journal.sqlite3")
    (True, False)
    """
    return isinstance(location, str) and location.lower().startswith(SCHEMES)


def _query(query: str) -> list[tuple[str, str]]:
    """A URL's query as written: ``(decoded key, raw "key=value")`` pairs."""
    return [(unquote(item.partition("=")[0]), item) for item in query.split("&") if item]


def secrets_of(url: str) -> list[str]:
    """The password a URL carries, as written and percent-decoded, longest first.

    >>> secrets_of("postgresql://u:p%40ss@h/db?password=other")
    ['p%40ss', 'other', 'p@ss']
    """
    found: set[str] = set()
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    userinfo = (
        url.partition("://")[2].rpartition("@")[0]
        if parts is None
        else (parts.netloc.rpartition("@")[0])
    )
    query = "" if parts is None else parts.query
    written = [userinfo.partition(":")[2]]
    written += [item.partition("=")[2] for key, item in _query(query) if key == "password"]
    for value in written:
        if value:
            found.update((value, unquote(value)))
    return sorted(found, key=lambda text: (-len(text), text))


def scrubbed(exc: BaseException, secrets: Iterable[str]) -> str:
    """What ``exc`` says (a driver's error, the server's words), on one line, each of
    ``secrets`` (a URL's password) replaced by ``***``; its type's name when it says none.

    >>> scrubbed(ValueError("bad  password s3cret   for u"), ["s3cret"])
    'bad password *** for u'
    """
    text = str(exc)
    for secret in secrets:
        text = text.replace(secret, "***")
    return " ".join(text.split()) or type(exc).__name__


def redact(url: str) -> str:
    """``url`` without its password (in the user part or a ``password=`` parameter).

    >>> redact("postgresql://mandao:s3cret@db.example:5433/mandao?sslmode=require")
    'postgresql://mandao@db.example:5433/mandao?sslmode=require'
    >>> redact("postgresql:///mandao?host=/run/pg&password=s3cret")
    'postgresql:///mandao?host=/run/pg'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{url.partition('://')[0]}://***"  # not parseable: show nothing after it
    userinfo, at, hostport = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}@{hostport}" if at else parts.netloc
    query = "&".join(item for key, item in _query(parts.query) if key != "password")
    # Not urlunsplit: it drops the empty host of "postgresql:///db?host=/run/pg".
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def label_of(spec: object) -> str:
    """How a journal (or a ``Client(journal=...)`` value) is named where people read it:
    a file's path, or a PostgreSQL URL without its password.

    >>> label_of("postgres://app:pw@10.0.0.5/sms")
    'postgres://app@10.0.0.5/sms'
    """
    label = getattr(spec, "label", None)
    if isinstance(label, str):
        return label
    if is_url(spec):
        return redact(str(spec))
    return str(spec)
