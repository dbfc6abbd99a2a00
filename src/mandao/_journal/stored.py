"""Storing what one fetch held: replies (opt-outs listed), and delivery reports matched to
the attempts they belong to (attempts of unknown outcome they name resolved as sent).

Each function runs inside the one transaction that also marks the fetch decoded, so a
fetch is either stored whole or decoded again by the next one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .database import Connection, Dialects
from .inbound import Suppression, advance, in_list, mark_decoded, now, resolve, suppress

if TYPE_CHECKING:
    from .._inbound.decoded import Decoded, Unreadable
    from .._inbound.optout import OptOut
    from .._inbound.replies import Reply
    from .._inbound.reports import Report

__all__ = ["Stored", "store_replies", "store_reports"]

_REPLY = (
    "INSERT INTO replies (inbound, sn, mobile, text, receiver, ext, received_at, mo_id, line, "
    "key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id"
)
_REPORT = (
    "INSERT INTO reports (inbound, sn, report_id, rrid, mobile, status, outcome, at, attempt, "
    "line, key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
)
_UNREADABLE = {
    table: f"INSERT INTO {table} (inbound, sn, line, problem) VALUES (?, ?, ?, ?)"  # noqa: S608
    for table in ("replies", "reports")
}
_ATTEMPTS = (
    "SELECT a.seq, a.rrid, a.recipients, coalesce(o.outcome, 'pending'), r.attempt "
    "FROM entries a LEFT JOIN entries o ON o.attempt = a.seq "
    "LEFT JOIN resolutions r ON r.attempt = a.seq WHERE a.kind = 'attempt' AND a.sn = ? AND "
)
_SENT_TO = Dialects(
    _ATTEMPTS + in_list("a.rrid"),
    _ATTEMPTS + in_list("a.rrid").postgresql,
)


@dataclass(frozen=True, slots=True)
class Stored:
    """What storing one fetch did.

    Attributes:
        new: records stored (a reply stored before, by a push or a pull, is not again).
        matched: reports matched to a journaled attempt (by rrid and mobile).
        resolved: seqs of attempts of unknown outcome that a report resolved as sent.
        suppressed: numbers an opt-out reply put on the suppression list.
    """

    new: int = 0
    matched: int = 0
    resolved: tuple[int, ...] = ()
    suppressed: tuple[str, ...] = ()


def _keep_unreadable(
    conn: Connection, table: str, inbound: int, sn: str, lines: Sequence[Unreadable]
) -> None:
    """What could not be read is kept as it came, with why: never dropped."""
    conn.executemany(_UNREADABLE[table], [(inbound, sn, line.raw, line.reason) for line in lines])


def store_replies(
    conn: Connection,
    inbound: int,
    sn: str,
    decoded: Decoded[Reply],
    optout: OptOut | None,
    moved: tuple[str, str] | None = None,
) -> tuple[list[Reply], Stored]:
    """Store the replies of the fetch ``inbound`` (those not stored before), list the
    numbers whose reply is an opt-out, advance the cursor ``moved`` (name, value), and
    mark the fetch decoded. The new replies."""
    fresh: list[Reply] = []
    listed: list[str] = []
    for reply in decoded.items:
        at = None if reply.received_at is None else reply.received_at.isoformat()
        key = "\x1f".join((sn, *reply.key()))
        values = (inbound, sn, reply.mobile, reply.text, reply.receiver, reply.ext, at,
                  reply.mo_id, reply.raw, key)  # fmt: skip
        if conn.execute(_REPLY, values).fetchone() is None:
            continue  # stored before: a push and a pull of one reply, or a repeated push
        fresh.append(reply)
        if optout is not None and optout.matches(reply.text):
            reason = f"replied {reply.text!r} at {at or 'an unknown time'}"
            if suppress(conn, Suppression(sn, reply.mobile, reply.ext, now(), "reply", reason)):
                listed.append(reply.mobile)
    _keep_unreadable(conn, "replies", inbound, sn, decoded.unreadable)
    if moved is not None:
        advance(conn, *moved)
    mark_decoded(conn, inbound)
    return fresh, Stored(new=len(fresh), suppressed=tuple(listed))


@dataclass(slots=True)
class _Candidate:
    """An attempt a report may belong to: open when its outcome is pending or unknown
    and it has no resolution; its recipients split when a report first needs them."""

    seq: int
    recipients: str | frozenset[str]
    open: bool

    def carried(self, mobile: str) -> bool:
        if isinstance(self.recipients, str):
            self.recipients = frozenset(self.recipients.split(","))
        return mobile in self.recipients


def _attempts(conn: Connection, sn: str, rrids: set[str]) -> dict[str, list[_Candidate]]:
    """The journaled attempts of ``sn`` with these rrids, by rrid (one query)."""
    found: dict[str, list[_Candidate]] = {}
    if rrids:
        rows = conn.execute(_SENT_TO, (sn, json.dumps(sorted(rrids)))).fetchall()
        for seq, rrid, recipients, outcome, resolved in rows:
            is_open = outcome in ("pending", "unknown") and resolved is None
            candidate = _Candidate(int(seq), str(recipients or ""), is_open)
            found.setdefault(str(rrid), []).append(candidate)
    return found


def _match(candidates: list[_Candidate] | None, mobile: str | None) -> _Candidate | None:
    """The attempt among ``candidates`` that carried ``mobile`` (the only candidate, when
    the report names no mobile)."""
    if not candidates:
        return None
    if mobile is None:
        return candidates[0] if len(candidates) == 1 else None
    return next((c for c in candidates if c.carried(mobile)), None)


def store_reports(
    conn: Connection,
    inbound: int,
    sn: str,
    decoded: Decoded[Report],
    moved: tuple[str, str] | None,
) -> Stored:
    """Store the reports of the fetch ``inbound``, each matched to its attempt; resolve
    the attempts of unknown outcome they name as sent; advance the cursor ``moved``
    (name, value); mark the fetch decoded."""
    sent = _attempts(conn, sn, {r.rrid for r in decoded.items if r.rrid})
    rows: list[tuple[object, ...]] = []
    matched, opened = 0, set()
    for report in decoded.items:
        found = _match(sent.get(report.rrid or ""), report.mobile)
        if found is not None:
            matched += 1
            if found.open:
                opened.add(found.seq)
        at = None if report.at is None else report.at.isoformat()
        parts = (sn, report.report_id, report.rrid, report.mobile, report.status, at)
        rows.append((inbound, sn, report.report_id, report.rrid, report.mobile, report.status,
                     report.outcome.value, at, None if found is None else found.seq, report.raw,
                     "\x1f".join(part or "" for part in parts)))  # fmt: skip
    conn.executemany(_REPORT, rows)
    resolved = tuple(sorted(opened))
    resolve(conn, resolved, "sent", "a delivery report names it", "report")
    _keep_unreadable(conn, "reports", inbound, sn, decoded.unreadable)
    if moved is not None:
        advance(conn, *moved)
    mark_decoded(conn, inbound)
    return Stored(new=len(rows), matched=matched, resolved=resolved)
