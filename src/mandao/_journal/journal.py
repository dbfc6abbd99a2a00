"""The send journal: every attempt to send, written before it leaves, in a hash chain.

Append-only: a ``pending`` row before the request goes out, then an outcome row that
names it (an update would change a hashed row). In an SQLite file (WAL mode) that the
threads and processes of a machine share, or in a PostgreSQL database that machines
share: either way each write is one transaction that appends after the last row's hash,
so the chain has one order. The chain and its checks are in :mod:`mandao._journal.chain`,
the two backends behind :mod:`mandao._journal.database`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from .._compose.numbers import Numbers
from .._errors import JournalError, ValidationError
from . import indexer
from . import sent as _sent
from .attempt import CHINA, Attempt, instant
from .backends import open_database
from .chain import PruneResult, Verification, prune_rows, refuse_early_prune, verify_chain
from .columns import ATTEMPTS, joined
from .database import SQL, Connection, Dialects, Kind
from .inbox import Inbox
from .ledger import SETTLE_AFTER, Reconciliation, reconcile
from .sent import BY_SEQ, LAST, SENDS, candidates, catch_up, confirmed, index_attempt

__all__ = ["OUTCOMES", "RETENTION", "Journal", "Outcome"]

#: Outcomes an attempt can end in; ``pending`` until its outcome row is written.
Outcome = Literal["pending", "accepted", "rejected", "unknown", "unreachable"]
OUTCOMES: tuple[str, ...] = ("pending", "accepted", "rejected", "unknown", "unreachable")

#: Vendor terms, item 6: send logs kept unmodified for at least six months.
RETENTION = timedelta(days=180)


def _joined(recipients: Sequence[str]) -> str:
    # A send's Numbers already is the comma-joined text: no split and join again.
    return recipients.joined if isinstance(recipients, Numbers) else ",".join(recipients)


class Journal(Inbox):
    """The send journal: an SQLite file, or a PostgreSQL database, that many threads,
    processes (and, on PostgreSQL, machines) may share. Beside the sends it keeps what
    comes back (replies, delivery reports), the suppression list and the resolutions of
    attempts whose outcome was unknown (the methods of :class:`~.inbox.Inbox`).

    Args:
        path: the SQLite file (created 0600, and its folder 0700 when mandao creates it),
            or a PostgreSQL URL (``postgresql://user@host/database``, ``postgres://``, or
            ``postgresql://user@/database?host=/socket/folder``; needs ``mandao[postgresql]``);
            None for ``$MANDAO_JOURNAL`` (a path or a URL), else :func:`default_journal_path`.
        durable: SQLite: fsync every write (``synchronous=FULL``). The default (``NORMAL``,
            WAL) survives a killed process; only a power loss may cost the last writes.
            PostgreSQL commits as durably as the server is set to (by default, flushed to
            its WAL); ``durable`` changes nothing there.
        timeout: seconds to wait for another writer (and, on PostgreSQL, for a
            connection) before giving up.

    Raises:
        JournalError: a PostgreSQL URL that is not one (the mistake said, the password not).

    Example::

        >>> import tempfile, pathlib
        >>> journal = Journal(pathlib.Path(tempfile.mkdtemp()) / "j.sqlite3")
        >>> seq = journal.begin(sn="SDK-TST-010-00001", operation="mdsmssend",
        ...                     host="http://127.0.0.1:1/", recipients=["13800138000"],
        ...                     content="验证码 1234【示例】", rrid="1")
        >>> [a.outcome for a in journal.pending()]
        ['pending']
        >>> _ = journal.complete(seq, "accepted", result="1")
        >>> journal.pending(), journal.verify().ok
        ([], True)
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, durable: bool = False,
        timeout: float = 30.0,
    ) -> None:  # fmt: skip
        self._database = open_database(path, durable, timeout)
        # Set by the first duplicate check: from then on this journal indexes its sends.
        self._indexing = False

    @property
    def kind(self) -> Kind:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._database.kind

    @property
    def location(self) -> Path | str:
        """The SQLite file, or the PostgreSQL URL without its password (as libpq takes it:
        the password then comes from ``PGPASSWORD`` or ``~/.pgpass``)."""
        return self._database.location

    @property
    def path(self) -> Path | str:
        """The SQLite file (for a PostgreSQL journal: :attr:`location`, its URL)."""
        return self._database.location

    @property
    def label(self) -> str:
        """How messages name this journal: its file, or its URL without the password."""
        return self._database.label

    def __repr__(self) -> str:
        return f"<mandao.Journal {self.label}>"

    def flush(self) -> None:
        """Wait for the duplicate index's writes made in the background (see
        :mod:`~.indexer`). Every row is committed before the call writing it returns."""
        indexer.wait(self._database)

    def close(self) -> None:
        """Close this process's connections (the next use opens them again)."""
        indexer.wait(self._database)
        self._database.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _append(
        self,
        row: dict[str, object],
        sent: tuple[str, str | Sequence[str]] | None = None,
        check: Callable[[Connection, int], None] | None = None,
    ) -> int:
        """Append ``row``, chained, in one transaction, committed when this returns;
        return its seq. ``sent``: its numbers (joined) and text(s), for the duplicate
        index when this journal keeps it (see :mod:`~.sent`); ``check(conn, seq)`` runs
        first in that transaction, and what it raises rolls it back."""
        indexed = sent if self._indexing else None
        if indexed is not None and indexer.many(indexed[0]):
            seq = self._database.append((row,), check)[0]
            indexer.index_later(self._database, seq, *indexed)  # while the request leaves
            return seq
        if indexed is None and check is None:
            return self._database.append((row,))[0]

        def index(conn: Connection, seq: int) -> None:
            if check is not None:
                check(conn, seq)
            if indexed is not None:
                index_attempt(conn, seq, *indexed)

        return self._database.append((row,), index)[0]

    # -- writing -----------------------------------------------------------------------
    def begin(
        self,
        *,
        sn: str,
        operation: str,
        host: str,
        recipients: Sequence[str] = (),
        content: str | Sequence[str] = "",
        protocol: str = "",
        rrid: str | None = None,
        segments: int = 0,
        call_id: str = "",
        batch_index: int = 0,
        batch_total: int = 1,
        unseen: _sent.Unseen | None = None,
    ) -> int:
        """Write a ``pending`` attempt before the request leaves; return its id (``seq``).

        ``content`` is the text as sent, or (``mdgxsend``) one text per recipient.
        ``unseen``: the duplicate guard's second look (the client's; see ``sent.Unseen``),
        made under the journal's write lock; it needs the ``call_id``.

        Raises:
            JournalError: the row could not be written; do not send.
            ConcurrentDuplicate: another call sent one the same text since; do not send.
        """
        single = isinstance(content, str)
        mobiles = _joined(recipients)
        check = None
        if unseen is not None and operation in SENDS:
            if not call_id:
                raise ValidationError("the duplicate guard's check needs it", argument="call_id")

            def check(conn: Connection, seq: int) -> None:
                _sent.refuse_unseen(conn, unseen, seq, sn=sn, call_id=call_id,
                              recipients=recipients, content=content)  # fmt: skip

        return self._append(
            {
                "kind": "attempt", "sn": sn, "operation": operation, "protocol": protocol,
                "host": host, "rrid": rrid or "", "recipients": mobiles,
                "content": content if single else None,
                "contents": None if single else json.dumps(list(content), ensure_ascii=False),
                "segments": segments, "call_id": call_id, "batch_index": batch_index,
                "batch_total": batch_total, "outcome": "pending",
            },
            (mobiles, content) if operation in SENDS else None,
            check,
        )  # fmt: skip

    def complete(
        self,
        attempt: int,
        outcome: Outcome,
        *,
        result: str = "",
        detail: str = "",
        latency: float | None = None,
        wait: bool | None = None,
    ) -> int:
        """Record the outcome of ``attempt`` (a row of its own, chained, committed when
        this returns); return its seq.

        Args:
            outcome: ``accepted`` (``result`` is the gateway's id), ``rejected`` (``result``
                is the code), ``unknown`` or ``unreachable`` (``detail`` says why).
            latency: seconds from sending to the answer.
            wait: deprecated and ignored: the row is always written before this returns
                (it used to be held in memory with ``wait=False``).

        Raises:
            ValidationError: ``outcome`` is not one of those four.
            JournalError: the row could not be written.
        """
        if outcome not in OUTCOMES[1:]:
            raise ValidationError(
                f"expected one of {', '.join(OUTCOMES[1:])}, got {outcome!r}",
                argument="outcome",
            )
        row: dict[str, object] = {
            "kind": "outcome", "attempt": attempt, "outcome": outcome,
            "result": result, "detail": detail,
            "latency_ms": None if latency is None else round(latency * 1000, 3),
        }  # fmt: skip
        if wait is not None:
            warnings.warn("Journal.complete(wait=...) is deprecated and ignored: the outcome "
                          "row is always committed before complete() returns",
                          DeprecationWarning, stacklevel=2)  # fmt: skip
        return self._append(row)

    # -- reading -----------------------------------------------------------------------
    def _read(self, sql: SQL, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        return self._database.read(lambda conn: conn.execute(sql, params).fetchall())

    def attempts(
        self,
        *,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        mobile: str | None = None,
        rrid: str | None = None,
        outcome: str | None = None,
        operation: str | Sequence[str] | None = None,
        sn: str | None = None,
        deliveries: bool = False,
    ) -> Iterator[Attempt]:
        """Attempts with their outcomes, oldest first, filtered (naive times are China time).

        ``until`` is exclusive; ``outcome`` is the final one (``pending`` when none yet);
        ``deliveries``: fill each attempt's per-recipient delivery status, from its reports.

        Raises:
            ValidationError: ``since`` or ``until`` is text that is not an ISO date or time.
            JournalError: the journal cannot be read.
        """
        sql, params = ATTEMPTS, []
        for column, op, name, value in (("a.time", ">=", "since", since),
                                        ("a.time", "<", "until", until)):  # fmt: skip
            if value is not None:
                sql += f" AND {column} {op} ?"
                params.append(instant(value, argument=name))
        if rrid is not None:
            sql += " AND a.rrid = ?"
            params.append(rrid)
        if sn is not None:
            sql += " AND a.sn = ?"
            params.append(sn)
        if outcome is not None:
            sql += " AND coalesce(o.outcome, 'pending') = ?"
            params.append(outcome)
        if operation is not None:
            names = [operation] if isinstance(operation, str) else list(operation)
            sql += f" AND a.operation IN ({', '.join('?' * len(names))})"
            params.extend(names)
        query: SQL = sql + " ORDER BY a.seq"
        if mobile is not None:  # a substring test, named differently by each backend
            params.append(mobile)
            query = Dialects(
                f"{sql} AND instr(a.recipients, ?) > 0 ORDER BY a.seq",
                f"{sql} AND strpos(a.recipients, ?) > 0 ORDER BY a.seq",
            )
        found = (a for a in self._select(query, params) if mobile is None or mobile in a.recipients)
        yield from self._delivered(found) if deliveries else found

    def _select(self, sql: SQL, params: Sequence[object]) -> Iterator[Attempt]:
        """The attempts an :data:`~.columns.ATTEMPTS` query finds."""
        for row in self._read(sql, params):
            sent, done, resolution = joined(row)
            try:
                found = Attempt._of(sent, done, resolution)
            except (ValueError, TypeError) as exc:
                raise JournalError(
                    f"cannot read row {sent.seq} of the journal {self.label} ({exc}): it was "
                    "modified outside mandao; `mandao journal verify` shows where"
                ) from exc
            yield found

    def pending(self) -> list[Attempt]:
        """Attempts with no outcome: in flight now, or cut off by a crash (outcome unknown)."""
        return list(self.attempts(outcome="pending"))

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> Verification:
        """Check the hash chain; report the first modified, inserted or deleted row.

        ``expect_head``: a ``(seq, hash)`` recorded earlier (``verify().head_*``), checked too.
        """
        return self._database.read(lambda conn: verify_chain(conn, expect_head), snapshot=True)

    def recent_duplicates(
        self, mobiles: Iterable[str], content: str, window: timedelta, *, sn: str | None = None
    ) -> tuple[str, ...]:
        """Numbers of ``mobiles`` already sent ``content`` within ``window`` (accepted,
        pending or of unknown outcome: refused and unreachable attempts did not go out)."""
        numbers = list(mobiles)
        found = self.duplicates([(m, content) for m in numbers], window, sn=sn)
        return tuple(m for m in numbers if (m, content) in found)

    def duplicates(
        self, pairs: Iterable[tuple[str, str]], window: timedelta, *, sn: str | None = None
    ) -> set[tuple[str, str]]:
        """The ``(mobile, text)`` pairs of ``pairs`` already sent within ``window``, as
        :meth:`recent_duplicates` counts them: one indexed lookup, whatever the window holds.

        The first call brings the journal's duplicate index up to date, and from then on
        this journal keeps it so as it writes (see :mod:`mandao._journal.sent`).
        """
        wanted: dict[str, set[str]] = {}
        for mobile, text in pairs:
            wanted.setdefault(mobile, set()).add(text)
        if not wanted:
            return set()
        since = instant(datetime.now(UTC) - window)
        catch_up(self._database)
        self._indexing = True
        pairs = [(m, t) for m, ts in wanted.items() for t in ts]
        seqs = self._database.read(lambda conn: candidates(conn, pairs, since, sn))
        if not seqs:
            return set()
        return confirmed(self._select(BY_SEQ, [json.dumps(seqs)]), wanted)

    def last_seq(self) -> int:
        """The seq of the journal's last row (0 when empty)."""
        return int(self._database.read(lambda conn: conn.execute(LAST).fetchone()[0]))

    def registrations(self, sn: str, day: date | None = None) -> int:
        """``Register``/``UnRegister`` attempts that may have reached the gateway for ``sn``
        on ``day`` (China time; default today): the vendor allows 10 a day (doc §4.2)."""
        day = day or datetime.now(CHINA).date()
        return sum(
            1
            for attempt in self.attempts(
                since=day,
                until=day + timedelta(days=1),
                sn=sn,
                operation=("Register", "UnRegister"),
            )
            if attempt.outcome != "unreachable"
        )

    # -- retention ---------------------------------------------------------------------
    def prune(
        self,
        before: datetime | date | str,
        *,
        retention: timedelta = RETENTION,
        override: bool = False,
    ) -> PruneResult:
        """Delete the rows written before ``before``, keeping the chain verifiable.

        Refuses (:class:`JournalError`) a ``before`` younger than ``retention`` (default
        180 days, vendor terms item 6), a ``retention`` shorter than 180 days, and a journal
        whose chain does not verify, unless ``override``. The hash of the last row removed
        becomes the anchor, kept in ``meta`` and in a chained ``prune`` row.
        """
        cutoff = instant(before, argument="before")
        if not override:
            refuse_early_prune(cutoff, retention, RETENTION)
            checked = self.verify()
            if not checked.ok:
                found = checked.problem
                where = f"at row {found.seq}: {found.message}" if found else "see verify"
                raise JournalError(f"the chain does not verify ({where}); not pruning")
        return self._database.write("prune", lambda conn: prune_rows(conn, cutoff))

    def reconcile(
        self, accepted: Iterable[tuple[str, str]], *, sn: str | None = None,
        settle_after: timedelta = SETTLE_AFTER,
    ) -> Reconciliation:  # fmt: skip
        """Hold the attempts of unknown outcome, not resolved since, against ``accepted``:
        the ``(rrid, mobile)`` pairs the gateway took (a ledger, its reports). One younger
        than ``settle_after`` that the record lacks is ``recent`` (it may be in flight).

            >>> import tempfile, pathlib
            >>> journal = Journal(pathlib.Path(tempfile.mkdtemp()) / "j.sqlite3")
            >>> _ = journal.begin(sn="SDK-TST-010-00001", operation="mdsmssend", host="h",
            ...                   recipients=["13800138000"], rrid="7")
            >>> found = journal.reconcile([("7", "13800138000")])
            >>> [(a.rrid, mobile) for a, mobile in found.sent], found.absent, found.unjournaled
            ([('7', '13800138000')], [], [])
        """
        return reconcile(self, accepted, sn=sn, settle_after=settle_after)
