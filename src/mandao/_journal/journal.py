"""The send journal: every attempt to send, written before it leaves, in a hash chain.

One SQLite file (WAL mode), append-only: a ``pending`` row before the request goes out,
then an outcome row that names it (an update would change a hashed row). Threads and
processes share one file: each write is one ``BEGIN IMMEDIATE`` transaction that appends
after the last row's hash, so the chain has one order. The chain and its checks are in
:mod:`mandao._journal.chain`, the file and its schema in :mod:`mandao._journal.store`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from .._compose.numbers import Numbers
from .._errors import JournalError, ValidationError
from .attempt import CHINA, Attempt, instant
from .chain import (
    PruneResult,
    Verification,
    insert_rows,
    prune_rows,
    refuse_early_prune,
    verify_chain,
)
from .columns import ATTEMPTS, joined
from .ledger import Reconciliation, reconcile
from .sent import SENDS, candidates, catch_up, confirmed, index_attempt
from .store import connect, default_journal_path

__all__ = [
    "OUTCOMES",
    "RETENTION",
    "Journal",
    "Outcome",
]

#: Outcomes an attempt can end in; ``pending`` until its outcome row is written.
Outcome = Literal["pending", "accepted", "rejected", "unknown", "unreachable"]
OUTCOMES: tuple[str, ...] = ("pending", "accepted", "rejected", "unknown", "unreachable")

#: Vendor terms, item 6: send logs kept unmodified for at least six months.
RETENTION = timedelta(days=180)


def _joined(recipients: Sequence[str]) -> str:
    # A send's Numbers already is the comma-joined text: no split and join again.
    return recipients.joined if isinstance(recipients, Numbers) else ",".join(recipients)


class Journal:
    """The send journal: an SQLite file that many threads and processes may share.

    Args:
        path: the file (created 0600, and its folder 0700 when mandao creates it); None for
            :func:`default_journal_path`.
        durable: fsync every write (``synchronous=FULL``). The default (``NORMAL``, WAL)
            survives a killed process; only a power loss may cost the last writes.
        timeout: seconds to wait for another writer before giving up.

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
        self.path = Path(path).expanduser() if path is not None else default_journal_path()
        self._durable = durable
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        # The chain's head as this connection last wrote it, and the file's data_version
        # then: unchanged, no other connection has written since (see _append).
        self._head: tuple[int, str] | None = None
        self._version = -1
        # Set by the first duplicate check: from then on this journal indexes its sends.
        self._indexing = False

    def __repr__(self) -> str:
        return f"<mandao.Journal {self.path}>"

    # -- the connection ----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """The connection of this process (a forked child opens its own)."""
        if self._conn is None or self._pid != os.getpid():
            self._conn = connect(self.path, timeout=self._timeout, durable=self._durable)
            self._pid, self._head = os.getpid(), None
        return self._conn

    def flush(self) -> None:
        """Nothing to do: every row is committed before the call that writes it returns.

        Kept so that code written for the journals that held outcome rows still runs.
        """

    def close(self) -> None:
        """Close the connection (the next use opens it again)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _append(
        self, row: dict[str, object], sent: tuple[str, str | Sequence[str]] | None = None
    ) -> int:
        """Append ``row``, chained, in one ``BEGIN IMMEDIATE`` transaction, committed when
        this returns; return its seq. ``sent``: its numbers (joined) and text(s), for the
        duplicate index when this journal keeps it (see :mod:`~.sent`)."""
        with self._lock, self._writing("write") as conn:
            # Read inside the write lock: data_version moves when another connection (a
            # thread's, a process's, sqlite3's) has committed since this one last did;
            # unmoved, the head this connection wrote is the head.
            (version,) = conn.execute("PRAGMA data_version").fetchone()
            known = self._head if version == self._version else None
            head = insert_rows(conn, row, head=known)
            if sent is not None and self._indexing:
                index_attempt(conn, head[0] - 1, head[0], *sent)
        self._head, self._version = head, version
        return head[0]

    @contextmanager
    def _writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction, committed when the block ends, rolled back
        (and the cached head forgotten) when it raises; SQLite's errors as JournalError."""
        try:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                self._head = None
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise JournalError(f"cannot {what} the journal {self.path}: {exc}") from exc

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
    ) -> int:
        """Write a ``pending`` attempt before the request leaves; return its id (``seq``).

        ``content`` is the text as sent, or (``mdgxsend``) one text per recipient.

        Raises:
            JournalError: the row could not be written; do not send.
        """
        single = isinstance(content, str)
        mobiles = _joined(recipients)
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
            warnings.warn(
                "Journal.complete(wait=...) is deprecated and ignored: the outcome row is "
                "always committed before complete() returns",
                DeprecationWarning,
                stacklevel=2,
            )
        return self._append(row)

    # -- reading -----------------------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, under the lock; SQLite's errors as JournalError."""
        with self._lock:
            try:
                yield self._connect()
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the journal {self.path}: {exc}") from exc

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._reading() as conn:
            return conn.execute(sql, params).fetchall()

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
    ) -> Iterator[Attempt]:
        """Attempts with their outcomes, oldest first, filtered (naive times are China time).

        ``until`` is exclusive; ``outcome`` is the final one (``pending`` when none yet).

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
        if mobile is not None:
            sql += " AND instr(a.recipients, ?) > 0"
            params.append(mobile)
        if outcome is not None:
            sql += " AND coalesce(o.outcome, 'pending') = ?"
            params.append(outcome)
        if operation is not None:
            names = [operation] if isinstance(operation, str) else list(operation)
            sql += f" AND a.operation IN ({', '.join('?' * len(names))})"
            params.extend(names)
        for found in self._select(sql + " ORDER BY a.seq", params):
            if mobile is None or mobile in found.recipients:
                yield found

    def _select(self, sql: str, params: Sequence[object]) -> Iterator[Attempt]:
        """The attempts an :data:`~.columns.ATTEMPTS` query finds."""
        for row in self._read(sql, params):
            sent, done = joined(row)
            try:
                found = Attempt._of(sent, done)
            except (ValueError, TypeError) as exc:
                raise JournalError(
                    f"cannot read row {sent.seq} of the journal {self.path} ({exc}): it was "
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
        with self._reading() as conn:
            return verify_chain(conn, expect_head)

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
        with self._reading() as conn:
            catch_up(conn)
            self._indexing = True
            seqs = candidates(conn, [(m, t) for m, ts in wanted.items() for t in ts], since, sn)
        if not seqs:
            return set()
        query = ATTEMPTS + " AND a.seq IN (SELECT value FROM json_each(?)) ORDER BY a.seq"  # noqa: S608
        return confirmed(self._select(query, [json.dumps(seqs)]), wanted)

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
                raise JournalError(f"the chain does not verify ({checked.problem}); not pruning")
        with self._lock, self._writing("prune") as conn:
            self._head = None  # pruning moves the chain's start and appends a row
            result = prune_rows(conn, cutoff)
        return result

    def reconcile(
        self, accepted: Iterable[tuple[str, str]], *, sn: str | None = None
    ) -> Reconciliation:
        """Hold every attempt whose outcome is ``pending`` or ``unknown`` against
        ``accepted``, the ``(rrid, mobile)`` pairs the gateway took (the sandbox's ledger,
        or the gateway's status reports).

        Example::

            >>> import tempfile, pathlib
            >>> journal = Journal(pathlib.Path(tempfile.mkdtemp()) / "j.sqlite3")
            >>> _ = journal.begin(sn="SDK-TST-010-00001", operation="mdsmssend", host="h",
            ...                   recipients=["13800138000"], rrid="7")
            >>> found = journal.reconcile([("7", "13800138000")])
            >>> [(a.rrid, mobile) for a, mobile in found.sent], found.absent, found.unjournaled
            ([('7', '13800138000')], [], [])
        """
        return reconcile(self, accepted, sn=sn)
