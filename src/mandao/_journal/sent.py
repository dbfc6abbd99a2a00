"""The duplicate guard's index: each number of each send, under a digest of its text.

``sent`` has one row per (text digest, mobile, attempt) of every ``mdsmssend`` and
``mdgxsend`` attempt, keyed in that order (``WITHOUT ROWID``), so "these numbers with
these texts" is one indexed lookup per batch, however many attempts the window holds.

The index is derived from ``entries``, not part of the chain, and is only a shortcut:
what it finds is read back from the chained rows and checked there (the text itself, the
time, the serial, the outcome), so a digest that two texts share, or a row edited into
the index, never makes the guard skip a number. Rows deleted from it can only make the
guard miss one.

Writing a row per number costs about a microsecond each (5 ms for a 5,000-number batch
on a slow machine, a tenth of the send): too dear for every send. So the index is kept
up to date only for journals the guard reads: ``meta`` ``sent`` records the last seq up
to which every send attempt is indexed (absent: none). The guard first indexes what came
after it (:func:`catch_up`, in chunks, so other writers wait one chunk at most), and from
then on that :class:`~.journal.Journal` indexes its own attempts as it writes them,
whenever the index was up to date just before (:func:`index_attempt`): in the attempt's
own transaction, or, for a large one, right after it in the background (:mod:`~.indexer`).
Attempts written by others in the meantime are indexed by the next catch-up.

The same statements run on both backends (:mod:`~.database`); where SQLite's
``json_each`` and PostgreSQL's ``json_array_elements`` differ, both are spelled out.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from .._errors import ConcurrentDuplicate, JournalError
from .attempt import Attempt, instant
from .columns import ATTEMPTS, joined
from .content import count_of, pairs_of, shown
from .database import Connection, Dialects

if TYPE_CHECKING:
    from .database import Database

__all__ = [
    "BY_SEQ",
    "LAST",
    "SENDS",
    "TABLE",
    "Unseen",
    "candidates",
    "catch_up",
    "confirmed",
    "digest",
    "index_attempt",
    "mark",
    "refuse_unseen",
]  # fmt: skip

#: Operations whose numbers the index holds.
SENDS = ("mdsmssend", "mdgxsend")

#: The index, as a new journal gets it (and schema 3 adds it).
TABLE = (
    "CREATE TABLE IF NOT EXISTS sent (digest INTEGER NOT NULL, mobile TEXT NOT NULL, "
    "attempt INTEGER NOT NULL, PRIMARY KEY (digest, mobile, attempt)) WITHOUT ROWID"
)

#: Attempts indexed per catch-up transaction.
CHUNK = 500

_INSERT = Dialects(
    "INSERT OR IGNORE INTO sent (digest, mobile, attempt) VALUES (?, ?, ?)",
    "INSERT INTO sent (digest, mobile, attempt) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
)
# Sorted, the rows of one text go in as one run of the key order: fewer pages touched.
_INSERT_ONE_TEXT = Dialects(
    "INSERT OR IGNORE INTO sent (digest, mobile, attempt) "
    "SELECT ?, value, ? FROM json_each(?) ORDER BY value",
    "INSERT INTO sent (digest, mobile, attempt) SELECT ?::bigint, value, ?::bigint "
    "FROM json_array_elements_text(?::json) AS j(value) ORDER BY value ON CONFLICT DO NOTHING",
)
_UNINDEXED = (
    "SELECT seq, recipients, content, contents FROM entries WHERE seq > ? AND kind = 'attempt' "
    "AND operation IN ('mdsmssend', 'mdgxsend') ORDER BY seq LIMIT ?"
)
#: Is there a send attempt between two seqs (both left out)?
_SENDS_BETWEEN = (
    "SELECT 1 FROM entries WHERE seq > ? AND seq < ? AND kind = 'attempt' "
    "AND operation IN ('mdsmssend', 'mdgxsend') LIMIT 1"
)
_MARK = "SELECT value FROM meta WHERE key = 'sent'"
_SET_MARK = (
    "INSERT INTO meta (key, value) VALUES ('sent', ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
LAST = "SELECT coalesce(max(seq), 0) FROM entries"
#: The attempts whose seqs a JSON list holds.
BY_SEQ = Dialects(
    ATTEMPTS + " AND a.seq IN (SELECT value FROM json_each(?)) ORDER BY a.seq",  # noqa: S608
    ATTEMPTS  # noqa: S608
    + " AND a.seq IN (SELECT value::bigint FROM json_array_elements_text(?::json)"
    " AS j(value)) ORDER BY a.seq",
)
# Another call's send attempts between two rows, in a guard's window.
_OF_OTHERS = (
    " AND a.seq > ? AND a.seq < ? AND a.time >= ? AND a.sn = ? AND coalesce(a.call_id, '') <> ?"
    " AND a.operation IN ('mdsmssend', 'mdgxsend')"
)
_ANY_OTHER = "SELECT 1 FROM entries a WHERE a.kind = 'attempt'" + _OF_OTHERS + " LIMIT 1"  # noqa: S608
_OTHERS = ATTEMPTS + _OF_OTHERS
#: Texts up to which the attempts read are only those of the texts checked.
_TEXTS = 50
_CANDIDATES = Dialects(
    "SELECT DISTINCT s.attempt FROM json_each(?) w "
    "JOIN sent s ON s.digest = w.value ->> 0 AND s.mobile = w.value ->> 1 "
    "JOIN entries a ON a.seq = s.attempt WHERE a.time >= ?",
    "SELECT DISTINCT s.attempt FROM json_array_elements(?::json) AS w(value) "
    "JOIN sent s ON s.digest = (w.value ->> 0)::bigint AND s.mobile = w.value ->> 1 "
    "JOIN entries a ON a.seq = s.attempt WHERE a.time >= ?",
)


def digest(text: str) -> int:
    """The index's key for a text: its CRC-32 (matches are checked against the text).

    >>> digest("验证码 1234【示例】") == digest("验证码 1234【示例】")
    True
    """
    return zlib.crc32(text.encode())


def mark(conn: Connection) -> int:
    """The seq up to which every send attempt is indexed (0: none)."""
    row = conn.execute(_MARK).fetchone()
    return int(row[0]) if row is not None and str(row[0]).isdigit() else 0


def _add(conn: Connection, seq: int, mobiles: str, texts: str | Sequence[str]) -> None:
    """Index attempt ``seq``: ``mobiles`` comma-joined, one text or one per number."""
    if not mobiles:
        return
    if isinstance(texts, str):
        # Numbers are digits: quoted, they are the JSON array (written out when not).
        plain = mobiles.replace(",", "").isdigit()
        numbers = (
            '["' + mobiles.replace(",", '","') + '"]' if plain else json.dumps(mobiles.split(","))
        )
        conn.execute(_INSERT_ONE_TEXT, (digest(texts), seq, numbers))
    else:
        # In key order: the B-tree's cursor moves one way, each page found once.
        rows = sorted((digest(t), m, seq) for m, t in zip(mobiles.split(","), texts, strict=False))
        conn.executemany(_INSERT, rows)


def index_attempt(conn: Connection, seq: int, mobiles: str, texts: str | Sequence[str]) -> None:
    """In a write transaction, attempt ``seq`` written: index it if every send attempt
    before it is indexed (the mark at the row before it, or only rows that are no send
    attempt, outcome rows, between the mark and it), and move the mark to ``seq``."""
    done = mark(conn)
    if done >= seq:
        return  # indexed already: a look caught up past it (a background write, late)
    if done != seq - 1 and conn.execute(_SENDS_BETWEEN, (done, seq)).fetchone() is not None:
        return  # a gap only a catch-up can fill: leave the mark where it is
    _add(conn, seq, mobiles, texts)
    conn.execute(_SET_MARK, (str(seq),))


def catch_up(database: Database) -> None:
    """Index every send attempt after the mark, up to the last row, a chunk per write
    transaction (so other writers wait one chunk at most). Rows after the mark that are
    no send attempt need no write, unless they are more than a chunk (the mark then moves
    on, so that what reads from it stays short)."""

    def behind(conn: Connection) -> bool:
        done, (last,) = mark(conn), conn.execute(LAST).fetchone()
        if int(last) - done > CHUNK:
            return True
        return conn.execute(_SENDS_BETWEEN, (done, int(last) + 1)).fetchone() is not None

    def chunk(conn: Connection) -> None:
        done = mark(conn)  # again, inside: another writer may have indexed meanwhile
        rows = conn.execute(_UNINDEXED, (done, CHUNK)).fetchall()
        for seq, mobiles, content, contents in rows:
            texts = json.loads(contents) if contents is not None else str(content or "")
            _add(conn, int(seq), str(mobiles or ""), texts)
        upto = rows[-1][0] if len(rows) == CHUNK else conn.execute(LAST).fetchone()[0]
        conn.execute(_SET_MARK, (str(upto),))

    while database.read(behind):
        database.write("index", chunk)


def candidates(
    conn: Connection, pairs: Sequence[tuple[str, str]], since: str, sn: str | None
) -> list[int]:
    """Seqs of the attempts since ``since`` (of ``sn``, if given) whose index rows match
    one of ``pairs`` (mobile, text): one indexed lookup; the caller checks each."""
    wanted = json.dumps([[digest(text), mobile] for mobile, text in pairs])
    sqlite, postgresql = str(_CANDIDATES), _CANDIDATES.postgresql
    params: list[object] = [wanted, since]
    if sn is not None:
        sqlite, postgresql = sqlite + " AND a.sn = ?", postgresql + " AND a.sn = ?"
        params.append(sn)
    order = " ORDER BY s.attempt"
    query = Dialects(sqlite + order, postgresql + order)
    return [int(seq) for (seq,) in conn.execute(query, params).fetchall()]


def confirmed(attempts: Iterable[Attempt], wanted: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The ``(mobile, text)`` pairs of ``wanted`` (mobile to texts) that ``attempts``, the
    candidates read back, did send: refused and unreachable attempts did not go out."""
    found: set[tuple[str, str]] = set()
    for attempt in attempts:
        if attempt.outcome in ("rejected", "unreachable"):
            continue
        # Every place of a number: an mdgxsend may give one number two texts.
        for number, text in pairs_of(attempt.recipients, attempt.content):
            if text in wanted.get(number, ()):
                found.add((number, text))
    return found


class Unseen(NamedTuple):
    """A pending row's second duplicate check (``Journal.begin(unseen=)``): the row is
    refused if a send attempt of another call, written after row ``after`` (the journal's
    last when the guard looked) and within the guard's ``window`` of now, sent one of the
    ``pairs()`` (mobile, text) the same text; None: the row's own numbers and text(s)."""

    after: int
    window: timedelta
    pairs: Callable[[], Iterable[tuple[str, str]]] | None = None


def refuse_unseen(
    conn: Connection,
    unseen: Unseen,
    seq: int,
    *,
    sn: str,
    call_id: str,
    recipients: Sequence[str],
    content: str | Sequence[str],
) -> None:
    """Inside the transaction writing attempt ``seq``, under the journal's write lock:
    refuse it as ``unseen`` says. One indexed range query when nobody else sent since the
    look; else only the attempts with one of the texts are read.

    Raises:
        ConcurrentDuplicate: one did; the transaction rolls back, nothing is sent.
    """
    # The window as the guard would look now: an attempt that has left it is no duplicate.
    where = (unseen.after, seq, instant(datetime.now(UTC) - unseen.window), sn, call_id)
    if conn.execute(_ANY_OTHER, where).fetchone() is None:
        return  # the usual case: nobody else wrote a send since the guard looked
    pairs = list(unseen.pairs() if unseen.pairs is not None else pairs_of(recipients, content))
    if not pairs:
        return
    wanted: dict[str, set[str]] = {}
    for number, text in pairs:
        wanted.setdefault(number, set()).add(text)
    texts = sorted({text for _, text in pairs})
    sql, params = _OTHERS, list(where)
    if len(texts) <= _TEXTS:  # read only attempts of these texts (or of per-number texts)
        sql += f" AND (a.contents IS NOT NULL OR a.content IN ({', '.join('?' * len(texts))}))"
        params += texts
    try:
        found = confirmed(
            (Attempt._of(*joined(row)) for row in conn.execute(sql, params).fetchall()), wanted
        )
    except (ValueError, TypeError, IndexError) as exc:  # a row edited outside mandao
        raise JournalError(
            f"cannot read the journal's attempts to check this request against ({exc}): the "
            "journal was modified outside mandao; `mandao journal verify` shows where"
        ) from exc
    if found:
        hit = {number for number, _ in found}
        numbers = tuple(n for n in dict.fromkeys(n for n, _ in pairs) if n in hit)
        raise ConcurrentDuplicate(
            f"another caller of {sn} sent {count_of(numbers)} the same text just now "
            f"({shown(numbers)}), after the duplicate guard had looked: this request was "
            "not sent",
            numbers=numbers,
        )
