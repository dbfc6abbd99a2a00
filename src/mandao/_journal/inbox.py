"""The journal's side of what comes back: resolutions, the suppression list, replies and
delivery reports stored and read back (the tables are :mod:`~.inbound`'s).

:class:`Inbox` is a base of :class:`~.journal.Journal`: these are its methods.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from .._errors import ValidationError
from .attempt import instant
from .database import Connection, Database, Dialects
from .inbound import (
    Suppression,
    advance,
    cursor,
    in_list,
    keep_raw,
    now,
    resolve,
    suppress,
    undecoded,
)
from .stored import Stored, store_replies, store_reports

if TYPE_CHECKING:
    from .._inbound.decoded import Decoded, Unreadable
    from .._inbound.optout import OptOut
    from .._inbound.replies import Reply
    from .._inbound.reports import Report
    from .attempt import Attempt

__all__ = ["Inbox", "Stored", "Suppression"]

#: Where a resolution's evidence came from.
Source = Literal["report", "ledger", "operator"]

_SUPPRESSED = "SELECT mobile FROM suppressions WHERE sn = ? AND (ext = '' OR ext = ?) AND "
_SUPPRESSED_IN = Dialects(
    _SUPPRESSED + in_list("mobile"), _SUPPRESSED + in_list("mobile").postgresql
)
_REPLIES = (
    "SELECT mobile, text, receiver, ext, received_at, mo_id, line FROM replies r "
    "JOIN inbound i ON i.id = r.inbound WHERE problem IS NULL"
)
#: ``attempt IN`` a JSON list, on PostgreSQL (whose JSON elements are text, attempt a bigint).
_BIGINTS = "attempt IN (SELECT value::bigint FROM json_array_elements_text(?::json) AS j(value))"
_DELIVERED = "SELECT attempt, mobile, outcome FROM reports WHERE problem IS NULL AND "
_DELIVERIES = Dialects(
    _DELIVERED + in_list("attempt") + " ORDER BY id",
    _DELIVERED + _BIGINTS + " ORDER BY id",
)
_REPORTS = (
    "SELECT rrid, mobile, status, outcome, at, report_id, line FROM reports r "
    "JOIN inbound i ON i.id = r.inbound WHERE problem IS NULL"
)


class Inbox:
    """The journal's methods for resolutions, suppressions, replies and reports."""

    _database: Database

    # -- resolutions -------------------------------------------------------------------
    def resolve(
        self,
        seqs: Iterable[int],
        *,
        outcome: Literal["sent", "not-sent"],
        evidence: str,
        source: Source = "operator",
    ) -> int:
        """Mark attempts whose outcome was unknown as settled: the one way to do it,
        whatever showed it (a delivery report, a ledger, an operator's word). An attempt
        keeps its first resolution. Returns how many were newly resolved.

        Raises:
            ValidationError: ``outcome``, ``source`` or ``evidence`` is not one allowed.
            JournalError: the journal cannot be written.
        """
        if outcome not in ("sent", "not-sent"):
            raise ValidationError(f"expected sent or not-sent, got {outcome!r}", argument="outcome")
        if source not in ("report", "ledger", "operator"):
            raise ValidationError(
                f"expected report, ledger or operator, got {source!r}", argument="source"
            )
        if not evidence.strip():
            raise ValidationError("say what shows it", argument="evidence")
        wanted = list(seqs)
        return self._database.write(
            "resolve", lambda conn: resolve(conn, wanted, outcome, evidence, source)
        )

    # -- the suppression list ----------------------------------------------------------
    def suppress(
        self, mobile: str, *, sn: str, ext: str = "", reason: str = "", source: str = "operator"
    ) -> bool:
        """Put ``mobile`` on ``sn``'s suppression list (for sends on ``ext`` only, or every
        send with ``""``); False when it was there already."""
        row = Suppression(sn, _mobile(mobile), ext, now(), source, reason)
        return self._database.write("suppress", lambda conn: suppress(conn, row))

    def unsuppress(self, mobile: str, *, sn: str, ext: str | None = None) -> int:
        """Take ``mobile`` off ``sn``'s list (its entry for ``ext``, or all its entries);
        how many entries went."""
        sql, params = "DELETE FROM suppressions WHERE sn = ? AND mobile = ?", [sn, _mobile(mobile)]
        if ext is not None:
            sql, params = sql + " AND ext = ?", [*params, ext]
        return self._database.write("unsuppress", lambda conn: conn.execute(sql, params).rowcount)

    def suppressions(self, *, sn: str | None = None) -> list[Suppression]:
        """The suppression list (of ``sn``, or of every serial), oldest first."""
        sql = "SELECT sn, mobile, ext, time, source, reason FROM suppressions"
        params: list[object] = []
        if sn is not None:
            sql, params = sql + " WHERE sn = ?", [sn]
        rows = self._database.read(
            lambda conn: conn.execute(sql + " ORDER BY time, mobile", params).fetchall()
        )
        return [Suppression(*(str(value) for value in row)) for row in rows]

    def suppressed(self, mobiles: Sequence[str], *, sn: str, ext: str = "") -> set[str]:
        """The numbers of ``mobiles`` that a send of ``sn`` on ``ext`` must leave out: listed
        for every send, or for that extension."""

        def look(conn: Connection) -> set[str]:
            if conn.execute("SELECT 1 FROM suppressions WHERE sn = ? LIMIT 1", (sn,)).fetchone():
                found = conn.execute(
                    _SUPPRESSED_IN, (sn, ext, json.dumps(list(mobiles)))
                ).fetchall()
                return {str(row[0]) for row in found}
            return set()

        return self._database.read(look) if mobiles else set()

    # -- fetches -----------------------------------------------------------------------
    def _keep(self, sn: str, source: str, raw: str) -> int:
        """Commit one fetch's raw answer before anything reads it; its id."""
        return self._database.write("keep", lambda conn: keep_raw(conn, sn, source, raw))

    def _undecoded(self, sn: str, sources: Sequence[str]) -> list[tuple[int, str, str]]:
        """Fetches kept but never decoded (a crash between keeping and storing)."""
        return self._database.read(lambda conn: undecoded(conn, sn, sources))

    def _cursor(self, name: str) -> str | None:
        return self._database.read(lambda conn: cursor(conn, name))

    def _store_replies(
        self,
        inbound: int,
        sn: str,
        decoded: Decoded[Reply],
        optout: OptOut | None,
        moved: tuple[str, str] | None = None,
    ) -> tuple[list[Reply], Stored]:
        """Store a fetch's new replies, list its opt-outs, move its cursor, mark it
        decoded: one transaction."""
        return self._database.write(
            "store replies",
            lambda conn: store_replies(conn, inbound, sn, decoded, optout, moved),
        )

    def _store_reports(
        self, inbound: int, sn: str, decoded: Decoded[Report], moved: tuple[str, str] | None
    ) -> tuple[list[Report], Stored]:
        """Store a fetch's reports, matched and resolving, the cursor moved: one transaction."""
        return self._database.write(
            "store reports", lambda conn: store_reports(conn, inbound, sn, decoded, moved)
        )

    # -- reading back ------------------------------------------------------------------
    def replies(
        self, *, sn: str | None = None, mobile: str | None = None,
        since: datetime | str | None = None,
    ) -> list[Reply]:  # fmt: skip
        """Replies stored, oldest first (lines that could not be read: :meth:`unreadable`)."""
        from .._inbound.replies import Reply

        sql = ("SELECT mobile, text, receiver, ext, received_at, mo_id, line FROM replies r "
               "JOIN inbound i ON i.id = r.inbound WHERE problem IS NULL")  # fmt: skip
        sql, params = _filtered(sql, sn=sn, mobile=mobile, since=since)
        rows = self._database.read(
            lambda conn: conn.execute(sql + " ORDER BY r.id", params).fetchall()
        )
        return [
            Reply(
                mobile=str(m),
                text=str(t),
                receiver=str(rc or ""),
                ext=str(e or ""),
                received_at=None if at is None else datetime.fromisoformat(str(at)),
                mo_id=None if mo is None else str(mo),
                raw=str(line),
            )
            for m, t, rc, e, at, mo, line in rows
        ]

    def unreadable(self, *, sn: str | None = None) -> list[tuple[str, Unreadable]]:
        """Reply lines and report records that could not be read, kept as they came:
        ``("replies" or "reports", Unreadable)``, oldest first."""
        from .._inbound.decoded import Unreadable

        found: list[tuple[str, Unreadable]] = []
        for table in ("replies", "reports"):
            sql, params = _filtered(
                f"SELECT line, problem FROM {table} r JOIN inbound i ON i.id = r.inbound "  # noqa: S608
                "WHERE problem IS NOT NULL",
                sn=sn,
            )
            rows = self._rows(sql, params)
            found += [(table, Unreadable(str(line), str(problem))) for line, problem in rows]
        return found

    def reports(
        self, *, sn: str | None = None, rrid: str | None = None, mobile: str | None = None,
        attempt: int | None = None,
    ) -> list[Report]:  # fmt: skip
        """Delivery reports stored, oldest first."""
        from .._inbound.reports import DeliveryClass, Report

        sql, params = _filtered(_REPORTS, sn=sn, mobile=mobile)
        for column, value in (("r.rrid", rrid), ("r.attempt", attempt)):
            if value is not None:
                sql, params = f"{sql} AND {column} = ?", [*params, value]
        rows = self._database.read(
            lambda conn: conn.execute(sql + " ORDER BY r.id", params).fetchall()
        )
        return [
            Report(
                rrid=None if r is None else str(r),
                mobile=None if m is None else str(m),
                status=str(st),
                outcome=DeliveryClass(str(oc)),
                at=None if at is None else datetime.fromisoformat(str(at)),
                report_id=None if rid is None else str(rid),
                raw=str(line),
            )
            for r, m, st, oc, at, rid, line in rows
        ]

    def _delivered(self, attempts: Iterable[Attempt]) -> Iterator[Attempt]:
        """``attempts`` with their ``deliveries`` filled: one query per 500 of them."""
        chunk: list[Attempt] = []
        for attempt in attempts:
            chunk.append(attempt)
            if len(chunk) == 500:
                yield from self._fill(chunk)
                chunk = []
        yield from self._fill(chunk)

    def _fill(self, chunk: list[Attempt]) -> list[Attempt]:
        if not chunk:
            return chunk
        found: dict[int, dict[str, str]] = {a.seq: {} for a in chunk}
        rows = self._rows(_DELIVERIES, [json.dumps(list(found))])
        for seq, mobile, outcome in rows:
            found[int(str(seq))][str(mobile)] = str(outcome)
        return [replace(a, deliveries=found[a.seq]) for a in chunk]

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[object, ...]]:
        return self._database.read(lambda conn: conn.execute(sql, params).fetchall())

    def deliveries(self, attempt: int) -> dict[str, str]:
        """Each recipient of ``attempt`` with a report, and its latest report's class
        (``delivered``, ``failed``, ``expired``, ``rejected``, ``unknown``)."""
        rows = self._database.read(
            lambda conn: conn.execute(
                "SELECT mobile, outcome FROM reports WHERE attempt = ? AND problem IS NULL "
                "ORDER BY id",
                (attempt,),
            ).fetchall()
        )
        return {str(mobile): str(outcome) for mobile, outcome in rows}

    def _advance(self, name: str, value: str) -> None:
        self._database.write("cursor", lambda conn: advance(conn, name, value))


def _mobile(mobile: str) -> str:
    from .._compose.numbers import normalize_mobiles

    return normalize_mobiles([mobile])[0]


def _filtered(
    sql: str, *, sn: str | None = None, mobile: str | None = None,
    since: datetime | str | None = None,
) -> tuple[str, list[object]]:  # fmt: skip
    params: list[object] = []
    for clause, value in (("i.sn = ?", sn), ("r.mobile = ?", mobile)):
        if value is not None:
            sql, params = f"{sql} AND {clause}", [*params, value]
    if since is not None:
        sql, params = f"{sql} AND i.time >= ?", [*params, instant(since)]
    return sql, params
