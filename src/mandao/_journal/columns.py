"""The journal's one list of columns: the table, its INSERT and SELECTs, and its row type.

Every row of ``entries`` is an :class:`Entry`. Its fields, in order, are the table's columns,
and each field's annotation carries its :class:`Column`: the SQL type, and whether the row's
hash covers it. The CREATE TABLE, the INSERT, the SELECTs and the list of hashed columns
are all made from it here, so a column is declared once (and, for journals already
written, added by one migration in :mod:`mandao._journal.store`).

The order is part of the file format: the table's columns are in this order in every
journal written so far (raw ``INSERT INTO entries SELECT ...`` relies on it), and a row's
hash covers the hashed columns in this order. A new column goes at the end, and must not
be hashed unless old rows (which lack it) are hashed without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, NamedTuple, get_type_hints

__all__ = [
    "ATTEMPTS",
    "COLUMNS",
    "ENTRIES",
    "HASHED",
    "INSERT",
    "NAMES",
    "TABLE",
    "Column",
    "Entry",
    "joined",
]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of ``entries``.

    Attributes:
        name: the column (and the :class:`Entry` field).
        sql: its type and constraints, as CREATE TABLE has them.
        hashed: whether the row's hash covers it (``prev`` and ``hash`` are the chain itself).
    """

    sql: str
    hashed: bool = True
    name: str = ""


class Entry(NamedTuple):
    """One row of ``entries``: an attempt, the outcome of one, or a prune record.

    ``kind`` says which: ``attempt`` rows carry what was sent, ``outcome`` rows name their
    attempt (``attempt``) and carry ``outcome``, ``result``, ``detail`` and ``latency_ms``,
    ``prune`` rows carry what was pruned as JSON in ``detail``.
    """

    seq: Annotated[int, Column("INTEGER PRIMARY KEY")]
    kind: Annotated[str, Column("TEXT NOT NULL")]
    attempt: Annotated[int | None, Column("INTEGER")]
    time: Annotated[str, Column("TEXT NOT NULL")]
    sn: Annotated[str | None, Column("TEXT")]
    operation: Annotated[str | None, Column("TEXT")]
    protocol: Annotated[str | None, Column("TEXT")]
    host: Annotated[str | None, Column("TEXT")]
    rrid: Annotated[str | None, Column("TEXT")]
    recipients: Annotated[str | None, Column("TEXT")]
    content: Annotated[str | None, Column("TEXT")]
    contents: Annotated[str | None, Column("TEXT")]  # mdgxsend: one text per number, JSON
    segments: Annotated[int | None, Column("INTEGER")]
    call_id: Annotated[str | None, Column("TEXT")]
    batch_index: Annotated[int | None, Column("INTEGER")]
    batch_total: Annotated[int | None, Column("INTEGER")]
    outcome: Annotated[str | None, Column("TEXT")]
    result: Annotated[str | None, Column("TEXT")]
    detail: Annotated[str | None, Column("TEXT")]
    latency_ms: Annotated[float | None, Column("REAL")]
    pid: Annotated[int | None, Column("INTEGER")]
    prev: Annotated[str, Column("TEXT NOT NULL", hashed=False)]
    hash: Annotated[str, Column("TEXT NOT NULL", hashed=False)]


def _columns() -> tuple[Column, ...]:
    hints = get_type_hints(Entry, include_extras=True)
    found = []
    for name in Entry._fields:
        (column,) = (m for m in hints[name].__metadata__ if isinstance(m, Column))
        found.append(Column(column.sql, column.hashed, name))
    return tuple(found)


#: Every column of ``entries``, in table order.
COLUMNS: tuple[Column, ...] = _columns()
#: Their names, in table order.
NAMES: tuple[str, ...] = Entry._fields
#: The columns a row's hash covers, in hashing order (see :func:`~.chain.row_hash`).
HASHED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.hashed)

#: The table, as a new journal gets it.
TABLE = "CREATE TABLE IF NOT EXISTS entries ({})".format(
    ", ".join(f"{c.name} {c.sql}" for c in COLUMNS)
)
#: Append one row: its values in :data:`NAMES` order.
INSERT = f"INSERT INTO entries ({', '.join(NAMES)}) VALUES ({', '.join('?' * len(NAMES))})"  # noqa: S608
#: Every row, every column, in :data:`NAMES` order (add ``ORDER BY``).
ENTRIES = f"SELECT {', '.join(NAMES)} FROM entries"  # noqa: S608
#: Each attempt row, then its outcome row's columns (NULLs when it has none), then its
#: resolution's (``resolutions``, outside the chain: NULLs when none); add conditions with
#: ``AND``. Decode with :func:`joined`.
ATTEMPTS = (
    f"SELECT {', '.join('a.' + n for n in NAMES)}, {', '.join('o.' + n for n in NAMES)},"  # noqa: S608
    " r.outcome, r.source, r.evidence, r.time"
    " FROM entries a LEFT JOIN entries o ON o.attempt = a.seq"
    " LEFT JOIN resolutions r ON r.attempt = a.seq WHERE a.kind = 'attempt'"
)

_WIDTH = len(NAMES)


def joined(
    row: tuple[object, ...],
) -> tuple[Entry, Entry | None, tuple[str, str, str, str] | None]:
    """An :data:`ATTEMPTS` row as the attempt, its outcome (None while pending) and its
    resolution's ``(outcome, source, evidence, time)`` (None when it has none)."""
    outcome = Entry._make(row[_WIDTH : 2 * _WIDTH]) if row[_WIDTH] is not None else None
    tail = row[2 * _WIDTH :]
    if tail[0] is None:
        return Entry._make(row[:_WIDTH]), outcome, None
    source, evidence, at = (str(value) for value in tail[1:])
    return Entry._make(row[:_WIDTH]), outcome, (str(tail[0]), source, evidence, at)
