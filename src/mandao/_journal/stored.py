"""Storing what one fetch held: replies (opt-outs listed), and delivery reports matched to
the attempts they belong to (attempts of unknown outcome they name resolved as sent).

Each function runs inside the one transaction that also marks the fetch decoded, so a
fetch is either stored whole or decoded again by the next one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .database import Connection, Dialects
from .inbound import Suppression, advance, in_list, mark_decoded, now, resolve, suppress

if TYPE_CHECKING:
    from .._inbound.decoded import Decoded, Unreadable
    from .._inbound.optout import OptOut
    from .._inbound.replies import Reply
    from .._inbound.reports import Report

__all__ = ["Stored", "sent_with", "store_replies", "store_reports"]

_REPLY = (
    "INSERT INTO replies (inbound, sn, mobile, text, receiver, ext, received_at, mo_id, line, "
    "key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id"
)
_REPORT = (
    "INSERT INTO reports (inbound, sn, report_id, rrid, mobile, status, outcome, at, attempt, "
    "line, key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING "
    "RETURNING id"
)
_UNREADABLE = {
    table: f"INSERT INTO {table} (inbound, sn, line, problem, key) VALUES (?, ?, ?, ?, ?) "  # noqa: S608
    "ON CONFLICT (key) DO NOTHING"
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
#: Attempts whose rrid column lists one rrid per number (an mdgxsend given a list).
_LISTS = Dialects(
    "SELECT seq, rrid FROM entries WHERE kind = 'attempt' AND sn = ? AND instr(rrid, ',') > 0",
    "SELECT seq, rrid FROM entries WHERE kind = 'attempt' AND sn = ? AND strpos(rrid, ',') > 0",
)
_BY_SEQS = Dialects(
    _ATTEMPTS + "a.seq IN (SELECT value FROM json_each(?))",  # noqa: S608 - text of ours
    _ATTEMPTS  # noqa: S608 - text of ours
    + "a.seq IN (SELECT value::bigint FROM json_array_elements_text(?::json) AS j(value))",
)
#: How likely an attempt is the one a report is about, by its outcome (lower first).
_LIKELY = {"accepted": 0, "unknown": 1, "pending": 1}


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


def _text(value: str | None) -> str | None:
    """``value`` as a database keeps text: PostgreSQL's text holds no NUL (a reply's %00)."""
    return value.replace("\x00", "\ufffd") if value and "\x00" in value else value


#: A key longer than this (in UTF-8) is kept as its SHA-256: a unique index of PostgreSQL
#: takes at most about 2.7 kB a row, and a reply may be longer.
_LONGEST_KEY = 512


def _short(key: str) -> str:
    """``key`` as the unique index keeps it: itself, or past :data:`_LONGEST_KEY`, its hash."""
    data = key.encode("utf-8", "surrogatepass")
    if len(data) <= _LONGEST_KEY:
        return key
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _keep_unreadable(
    conn: Connection, table: str, inbound: int, sn: str, lines: Sequence[Unreadable]
) -> None:
    """What could not be read is kept as it came, with why: never dropped, and once (a
    gateway without a cursor answers the same records again; a push repeats)."""
    rows = [(inbound, sn, _text(line.raw), _text(line.reason),
             _short(f"unread\x1f{sn}\x1f{_text(line.raw)}")) for line in lines]  # fmt: skip
    conn.executemany(_UNREADABLE[table], rows)


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
        key = _short("\x1f".join((sn, *reply.key())))
        texts = (
            reply.mobile,
            reply.text,
            reply.receiver,
            reply.ext,
            at,
            reply.mo_id,
            reply.raw,
            key,
        )
        values = (inbound, sn, *(_text(value) for value in texts))
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
    likely: int = 2

    def carried(self, mobile: str) -> bool:
        if isinstance(self.recipients, str):
            self.recipients = frozenset(self.recipients.split(","))
        return mobile in self.recipients


def _attempts(conn: Connection, sn: str, rrids: set[str]) -> dict[str, list[_Candidate]]:
    """The journaled attempts of ``sn`` with these rrids, by rrid: one query, and for the
    rrids not found so, one pass over the attempts whose column lists one rrid per number
    (an mdgxsend given a list) and one query for those that hold them. Each rrid's
    candidates are ordered accepted first, then of unknown outcome, then the rest (a
    request refused with -8 and sent again keeps its rrid)."""
    found: dict[str, list[_Candidate]] = {}
    if not rrids:
        return found

    def add(key: str, rows: list[Any]) -> None:
        for seq, _, recipients, outcome, resolved in rows:
            is_open = outcome in ("pending", "unknown") and resolved is None
            found.setdefault(key, []).append(
                _Candidate(int(seq), str(recipients or ""), is_open, _LIKELY.get(outcome, 2))
            )

    for row in conn.execute(_SENT_TO, (sn, json.dumps(sorted(rrids)))).fetchall():
        add(str(row[1]), [row])
    if rest := rrids - set(found):
        holding: dict[int, list[str]] = {}
        for seq, listed in conn.execute(_LISTS, (sn,)).fetchall():
            if held := rest.intersection(str(listed).split(",")):
                holding[int(seq)] = sorted(held)
        if holding:
            for row in conn.execute(_BY_SEQS, (sn, json.dumps(sorted(holding)))).fetchall():
                for rrid in holding[int(row[0])]:
                    add(rrid, [row])
    for candidates in found.values():
        candidates.sort(key=lambda c: (c.likely, c.seq))
    return found


def sent_with(conn: Connection, sn: str, rrids: set[str]) -> list[tuple[str, int, str]]:
    """The attempts of ``sn`` whose rrid field is one of ``rrids`` (whole) that may have
    reached the gateway (accepted, of unknown outcome, pending): (rrid, seq, outcome),
    in seq order. One indexed query."""
    rows = conn.execute(_SENT_TO, (sn, json.dumps(sorted(rrids)))).fetchall()
    found = [(str(rrid), int(seq), str(outcome)) for seq, rrid, _, outcome, _ in rows]
    return sorted((row for row in found if row[2] in _LIKELY), key=lambda row: row[1])


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
) -> tuple[list[Report], Stored]:
    """Store the reports of the fetch ``inbound`` not stored before, each matched to its
    attempt; resolve the attempts of unknown outcome they name as sent; advance the
    cursor ``moved`` (name, value); mark the fetch decoded. The new reports."""
    sent = _attempts(conn, sn, {r.rrid for r in decoded.items if r.rrid})
    fresh: list[Report] = []
    matched, opened = 0, set()
    for report in decoded.items:
        found = _match(sent.get(report.rrid or ""), report.mobile)
        at = None if report.at is None else report.at.isoformat()
        parts = (sn, report.report_id, report.rrid, report.mobile, report.status, at)
        row = (inbound, sn, report.report_id, report.rrid, report.mobile, _text(report.status),
               report.outcome.value, at, None if found is None else found.seq, _text(report.raw),
               _text("\x1f".join(part or "" for part in parts)))  # fmt: skip
        if conn.execute(_REPORT, row).fetchone() is None:
            continue  # stored before (a report2 and a report of one send, a repeat)
        fresh.append(report)
        if found is not None:
            matched += 1
            if found.open:
                opened.add(found.seq)
    resolved = tuple(sorted(opened))
    resolve(conn, resolved, "sent", "a delivery report names it", "report")
    _keep_unreadable(conn, "reports", inbound, sn, decoded.unreadable)
    if moved is not None:
        advance(conn, *moved)
    mark_decoded(conn, inbound)
    return fresh, Stored(new=len(fresh), matched=matched, resolved=resolved)
