"""The send journal: every attempt to send, written before it leaves, in a hash chain.

One SQLite file (WAL mode), append-only: an attempt is a ``pending`` row written before
the request goes out; its outcome is a second row that names it, written after. Many
threads and many processes may write one file: each write is one ``BEGIN IMMEDIATE``
transaction that reads the last row's hash and appends the new row, so the chain has one
order whoever writes. See :mod:`mandao._journal.chain` for the chain and its checks, and
:mod:`mandao._journal.store` for the file and its schema.

Why outcome rows instead of updating the attempt: an update would have to re-hash the row
and every row after it (or leave the chain unable to tell a completion from an edit);
appending keeps every row's hash fixed from the moment it is written.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from .._compose.numbers import Numbers
from .._errors import JournalError, ValidationError
from .attempt import CHINA, Attempt, instant
from .chain import PruneResult, Verification, insert_rows, now, prune_rows, verify_chain
from .columns import ATTEMPTS, joined
from .held import HeldRows
from .ledger import Reconciliation, reconcile
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
        self._held = HeldRows(self.flush)

    def __repr__(self) -> str:
        return f"<mandao.Journal {self.path}>"

    # -- the connection ----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """The connection of this process (a forked child opens its own)."""
        if self._conn is None or self._pid != os.getpid():
            self._conn = connect(self.path, timeout=self._timeout, durable=self._durable)
            self._pid = os.getpid()
        return self._conn

    def flush(self) -> None:
        """Write the outcomes held by ``complete(..., wait=False)`` now."""
        # Wait for a write under way first: the timer's may have taken the held rows. At
        # exit this flush is what keeps them, since the interpreter then stops the timer's
        # thread wherever it is, and rows taken but not committed would be lost.
        with self._lock:
            held = bool(self._held)
        if held:
            self._append()

    def close(self) -> None:
        """Write queued outcomes and close the connection (the next use opens it again)."""
        self.flush()
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _append(self, *rows: dict[str, object]) -> int:
        """Append held rows, then ``rows``, chained, in one ``BEGIN IMMEDIATE`` transaction;
        return the last seq."""
        with self._lock:
            held = self._held.take()
            try:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    seq = insert_rows(conn, *held, *rows)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, JournalError) as exc:
                self._held.give_back(held)
                if isinstance(exc, JournalError):
                    raise
                raise JournalError(f"cannot write the journal {self.path}: {exc}") from exc
            except BaseException:
                self._held.give_back(held)
                raise
            return seq

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
        return self._append(
            {
                "kind": "attempt", "sn": sn, "operation": operation, "protocol": protocol,
                "host": host, "rrid": rrid or "", "recipients": _joined(recipients),
                "content": content if single else None,
                "contents": None if single else json.dumps(list(content), ensure_ascii=False),
                "segments": segments, "call_id": call_id, "batch_index": batch_index,
                "batch_total": batch_total, "outcome": "pending",
            }
        )  # fmt: skip

    def complete(
        self,
        attempt: int,
        outcome: Outcome,
        *,
        result: str = "",
        detail: str = "",
        latency: float | None = None,
        wait: bool = True,
    ) -> int | None:
        """Record the outcome of ``attempt`` (a row of its own, chained); return its seq.

        Args:
            outcome: ``accepted`` (``result`` is the gateway's id), ``rejected`` (``result``
                is the code), ``unknown`` or ``unreachable`` (``detail`` says why).
            latency: seconds from sending to the answer.
            wait: False holds the row and returns None: it is written with the next row,
                on a read, or within 50 ms (see :mod:`mandao._journal.held`).

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
            "time": now(), "kind": "outcome", "attempt": attempt, "outcome": outcome,
            "result": result, "detail": detail,
            "latency_ms": None if latency is None else round(latency * 1000, 3),
        }  # fmt: skip
        if not wait:
            with self._lock:
                self._held.add(row)
            return None
        return self._append(row)

    # -- reading -----------------------------------------------------------------------
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        self.flush()
        with self._lock:
            try:
                return self._connect().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the journal {self.path}: {exc}") from exc

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
        for row in self._read(sql + " ORDER BY a.seq", params):
            sent, done = joined(row)
            try:
                found = Attempt._of(sent, done)
            except (ValueError, TypeError) as exc:
                raise JournalError(
                    f"cannot read row {sent.seq} of the journal {self.path} ({exc}): it was "
                    "modified outside mandao; `mandao journal verify` shows where"
                ) from exc
            if mobile is None or mobile in found.recipients:
                yield found

    def pending(self) -> list[Attempt]:
        """Attempts with no outcome: in flight now, or cut off by a crash (outcome unknown)."""
        return list(self.attempts(outcome="pending"))

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> Verification:
        """Check the hash chain; report the first modified, inserted or deleted row.

        ``expect_head``: a ``(seq, hash)`` recorded earlier (``verify().head_*``), checked too.
        """
        self.flush()
        with self._lock:
            try:
                return verify_chain(self._connect(), expect_head)
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the journal {self.path}: {exc}") from exc

    def recent_duplicates(
        self, mobiles: Iterable[str], content: str, window: timedelta, *, sn: str | None = None
    ) -> tuple[str, ...]:
        """Numbers of ``mobiles`` already sent ``content`` within ``window`` (accepted,
        pending or of unknown outcome: refused and unreachable attempts did not go out)."""
        wanted = set(mobiles)
        since = datetime.now(UTC) - window
        found: dict[str, None] = {}
        for attempt in self.attempts(since=since, sn=sn, operation=("mdsmssend", "mdgxsend")):
            if attempt.outcome in ("rejected", "unreachable"):
                continue
            for number in wanted.intersection(attempt.recipients):
                if attempt.text_for(number) == content:
                    found[number] = None
        return tuple(m for m in mobiles if m in found) if found else ()

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
        self.flush()
        if not override:
            if retention < RETENTION:
                raise JournalError(
                    f"retention below {RETENTION.days} days needs override=True "
                    "(vendor terms, item 6: keep send logs six months)"
                )
            oldest_allowed = datetime.now(UTC) - retention
            if cutoff > oldest_allowed.isoformat(timespec="microseconds"):
                raise JournalError(
                    f"refusing to prune rows younger than {retention.days} days "
                    f"(before {oldest_allowed.date()} at the latest); pass override=True"
                )
            checked = self.verify()
            if not checked.ok:
                raise JournalError(f"the chain does not verify ({checked.problem}); not pruning")
        with self._lock:
            try:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = prune_rows(conn, cutoff)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise JournalError(f"cannot prune the journal {self.path}: {exc}") from exc
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
