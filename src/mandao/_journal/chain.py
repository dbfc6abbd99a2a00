"""The journal's hash chain: how rows are appended and pruned, and how the chain is checked.

Every row carries ``prev`` (the hash of the row before it, or the anchor's) and ``hash``,
the SHA-256 of ``prev`` and the row's own columns (its ``seq`` included, so rows cannot be
reordered). Rows are only ever appended: an attempt's outcome is a row of its own that
names the attempt, never an update. So a row that no longer matches its hash was
modified; a row whose ``prev`` is not its predecessor's hash, or a gap in ``seq``, means
rows were deleted; a row the chain runs around (its successor links to its predecessor)
was inserted. The last row is also kept in ``meta`` (``head``) so that deleting rows at
the end, or appending forged ones, shows too. Pruning deletes a prefix and records where
the chain now starts (``anchor``) both in ``meta`` and in a chained ``prune`` row.

What this does not catch: someone who rewrites the whole chain from a point on, with the
algorithm in hand. Record the head hash (``mandao journal verify`` prints it) somewhere
else now and then, and check it with ``verify --expect-head``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Literal

from .._errors import JournalError
from .columns import ENTRIES, HASHED, INSERT, NAMES, Entry
from .database import Connection, Head
from .inbound import prune_inbound

__all__ = [
    "GENESIS",
    "Problem",
    "PruneResult",
    "Verification",
    "chained",
    "head_of",
    "insert_rows",
    "now",
    "prune_rows",
    "refuse_early_prune",
    "row_hash",
    "verify_chain",
    "write_rows",
]

#: The hash of "no row before": the chain of a new journal starts here.
GENESIS = "0" * 64

#: A row's hashed values, in :data:`~.columns.HASHED` order.
_hashed = itemgetter(*(NAMES.index(name) for name in HASHED))


def row_hash(prev: str, values: Sequence[object]) -> str:
    """SHA-256 (hex) of the previous hash and a row's values (in :data:`~.columns.HASHED` order).

    Each value goes in as its type (``n`` null, ``i`` integer, ``f`` real, ``s`` text),
    its length in bytes and its UTF-8 bytes, so no two rows hash alike by accident and a
    changed type shows too. (Not JSON: escaping 60 kB of numbers costs more than hashing.)

    >>> row_hash(GENESIS, [1, None, "a", 1.5])[:16]
    'ec85fd3b97a447aa'
    """
    # One text, encoded and hashed once: the same bytes as hashing the pieces in turn
    # (UTF-8 of a concatenation is the concatenation of the UTF-8s), at a third the cost.
    parts = [prev]
    append = parts.append
    for value in values:
        if isinstance(value, str):
            append(f"\ns{len(value) if value.isascii() else len(value.encode())}:{value}")
        elif value is None:
            append("\nn0:")
        else:
            text = repr(value)
            append(f"\n{'i' if isinstance(value, int) else 'f'}{len(text)}:{text}")
    return hashlib.sha256("".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """The first place the chain does not hold.

    Attributes:
        seq: the row (its ``seq``) where it shows.
        kind: ``"modified"``, ``"inserted"`` or ``"deleted"``.
        message: what was found, in a sentence.
    """

    seq: int
    kind: Literal["modified", "inserted", "deleted"]
    message: str


@dataclass(frozen=True)
class Verification:
    """What :meth:`Journal.verify` found.

    Attributes:
        ok: True when every row matches its hash and links to the one before.
        rows: rows checked.
        head_seq, head_hash: the last row and its hash (record it to check later).
        anchor_seq: rows up to this one were pruned (0 when none were).
        problem: the first :class:`Problem`, or None.
    """

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    anchor_seq: int
    problem: Problem | None = None


def _meta(conn: Connection, key: str) -> Head | None:
    """The ``SEQ:HASH`` kept in ``meta`` under ``key`` (``head``, ``anchor``), or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    seq, _, digest = str(row[0]).partition(":")
    if not seq.isdigit() or len(digest) != len(GENESIS):
        raise JournalError(
            f"the journal's meta table holds {key} = {row[0]!r}, not SEQ:HASH: the file was "
            "modified outside mandao; restore it from a backup"
        )
    return int(seq), digest


def verify_chain(conn: Connection, expect_head: Head | None = None) -> Verification:
    """Walk every row in ``seq`` order and report the first break (see the module doc).

    Run it in a snapshot (``Database.read(..., snapshot=True)``): one state of meta and
    rows while others keep writing.
    """
    anchor = _meta(conn, "anchor") or (0, GENESIS)
    head = _meta(conn, "head")
    cursor = conn.stream(ENTRIES + " ORDER BY seq")
    prev_seq, prev_hash = anchor
    rows = 0
    pruned_to: tuple[int, str] | None = None
    problem: Problem | None = None
    entry = _next(cursor)
    while entry is not None:
        following = _next(cursor)
        seq = int(entry.seq)
        rows += 1
        self_ok = row_hash(str(entry.prev), _hashed(entry)) == entry.hash
        if head is not None and seq > head[0]:
            problem = Problem(seq, "inserted", f"row {seq} comes after the recorded head")
        elif seq > prev_seq + 1:
            problem = Problem(prev_seq + 1, "deleted", f"rows {prev_seq + 1}…{seq - 1} are missing")
        elif entry.prev != prev_hash:
            if following is not None and following.prev == prev_hash:
                problem = Problem(seq, "inserted", f"row {seq} is not part of the chain")
            elif self_ok:
                problem = Problem(
                    seq, "deleted", f"the row before row {seq} is not the one it was chained to"
                )
            else:
                problem = Problem(seq, "modified", f"row {seq} does not match its hash")
        elif not self_ok:
            if following is not None and following.prev == prev_hash:
                problem = Problem(seq, "inserted", f"row {seq} is not part of the chain")
            else:
                problem = Problem(seq, "modified", f"row {seq} does not match its hash")
        if problem is None and expect_head is not None and seq == expect_head[0]:
            if entry.hash != expect_head[1]:
                problem = Problem(seq, "modified", f"row {seq} is not the head recorded earlier")
            expect_head = None
        if problem is not None:
            break
        if entry.kind == "prune":
            pruned_to = _prune_anchor(entry.detail)
        prev_seq, prev_hash = seq, str(entry.hash)
        entry = following
    if problem is None and anchor[0] > 0 and pruned_to != anchor:
        problem = Problem(
            anchor[0],
            "deleted",
            f"rows up to {anchor[0]} are gone but no prune row in the chain records it",
        )
    if problem is None and head is not None and head != (prev_seq, prev_hash):
        if head[0] > prev_seq:
            problem = Problem(
                prev_seq + 1,
                "deleted",
                f"rows {prev_seq + 1}…{head[0]} (the last ones) are missing",
            )
        elif head[0] < prev_seq:
            problem = Problem(
                head[0] + 1, "inserted", f"rows after {head[0]} were not written here"
            )
        else:
            problem = Problem(prev_seq, "modified", f"row {prev_seq} is not the recorded head")
    if problem is None and expect_head is not None and expect_head[0] > anchor[0]:
        problem = Problem(
            prev_seq + 1, "deleted", f"row {expect_head[0]}, a recorded head, is gone"
        )
    return Verification(problem is None, rows, prev_seq, prev_hash, anchor[0], problem)


def _next(cursor: Iterator[tuple[object, ...]]) -> Entry | None:
    row = next(cursor, None)
    return None if row is None else Entry._make(row)


def _prune_anchor(detail: object) -> tuple[int, str] | None:
    try:
        data = json.loads(str(detail))
        return int(data["anchor_seq"]), str(data["anchor_hash"])
    except (ValueError, KeyError, TypeError):
        return None


def now() -> str:
    """The time as the journal keeps it: UTC, ISO 8601, microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class PruneResult:
    """What :meth:`Journal.prune` removed, and where the chain now starts."""

    removed: int
    anchor_seq: int
    anchor_hash: str


#: A row of nothing but NULLs, by column name: what :func:`insert_rows` fills in.
_EMPTY: dict[str, object] = dict.fromkeys(NAMES)
_values = itemgetter(*NAMES)
_hashed_values = itemgetter(*HASHED)
_LAST = "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1"
_HEAD = (
    "INSERT INTO meta (key, value) VALUES ('head', ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def head_of(conn: Connection) -> Head:
    """The last row's ``(seq, hash)``, or the anchor's (the genesis when none)."""
    last = conn.execute(_LAST).fetchone()
    return (int(last[0]), str(last[1])) if last else _meta(conn, "anchor") or (0, GENESIS)


def chained(
    rows: Sequence[Mapping[str, object]], head: Head
) -> tuple[list[tuple[object, ...]], Head]:
    """``rows`` (column name to value; others are NULL) chained after ``head``: each
    row's values in :data:`~.columns.NAMES` order, and the new head.

    Each row gets its ``seq``, this process's ``pid``, ``prev`` and ``hash``; and the time
    now unless it has one.
    """
    seq, prev = head
    stamp, pid = now(), os.getpid()
    lines = []
    for row in rows:
        seq += 1
        full = _EMPTY.copy()
        full.update(row)
        full["seq"], full["pid"] = seq, pid
        if full["time"] is None:
            full["time"] = stamp
        digest = row_hash(prev, _hashed_values(full))
        full["prev"], full["hash"] = prev, digest
        lines.append(_values(full))
        prev = digest
    return lines, (seq, prev)


def write_rows(conn: Connection, lines: Sequence[Sequence[object]], head: Head) -> None:
    """Insert rows :func:`chained` made, and record their last as the head."""
    if len(lines) == 1:
        conn.execute(INSERT, lines[0])
    else:
        conn.executemany(INSERT, lines)
    conn.execute(_HEAD, (f"{head[0]}:{head[1]}",))


def insert_rows(conn: Connection, *rows: Mapping[str, object], head: Head | None = None) -> Head:
    """Append ``rows`` after the last row, or the anchor, inside an open write
    transaction; return the new head ``(seq, hash)``.

    ``head``: the last row's ``(seq, hash)`` when the caller knows that no one else has
    written since it read it (else it is read here).
    """
    lines, new = chained(rows, head if head is not None else head_of(conn))
    write_rows(conn, lines, new)
    return new


def refuse_early_prune(cutoff: str, retention: timedelta, least: timedelta) -> None:
    """Raise :class:`JournalError` for a ``retention`` below ``least`` (the vendor's six
    months) or a ``cutoff`` younger than ``retention``."""
    if retention < least:
        raise JournalError(
            f"retention below {least.days} days needs override=True "
            "(vendor terms, item 6: keep send logs six months)"
        )
    oldest_allowed = datetime.now(UTC) - retention
    if cutoff > oldest_allowed.isoformat(timespec="microseconds"):
        raise JournalError(
            f"refusing to prune rows younger than {retention.days} days "
            f"(before {oldest_allowed.date()} at the latest); pass override=True"
        )


def prune_rows(conn: Connection, cutoff: str) -> PruneResult:
    """Delete the rows before the first one written at or after ``cutoff``; chain a record."""
    (first_kept,) = conn.execute(
        "SELECT min(seq) FROM entries WHERE time >= ?", (cutoff,)
    ).fetchone()
    last = conn.execute(
        "SELECT seq, hash FROM entries WHERE seq < ? ORDER BY seq DESC LIMIT 1",
        (2**63 - 1 if first_kept is None else int(first_kept),),
    ).fetchone()
    # Fetches, replies and reports age by the same rule (the suppression list stays).
    prune_inbound(conn, cutoff, 0 if last is None else int(last[0]))
    if last is None:
        return PruneResult(0, 0, "")
    removed = conn.execute("DELETE FROM entries WHERE seq <= ?", (last[0],)).rowcount
    conn.execute("DELETE FROM sent WHERE attempt <= ?", (last[0],))  # the guard's index
    anchor_seq, anchor_hash = int(last[0]), str(last[1])
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('anchor', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (f"{anchor_seq}:{anchor_hash}",),
    )
    detail = {"anchor_seq": anchor_seq, "anchor_hash": anchor_hash, "before": cutoff,
              "removed": removed}  # fmt: skip
    insert_rows(conn, {"kind": "prune", "detail": json.dumps(detail), "outcome": ""})
    return PruneResult(removed, anchor_seq, anchor_hash)
