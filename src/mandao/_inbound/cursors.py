"""Where a fetch's cursor moves: to the largest record id its answer held (``mo2``'s
``maxID``, ``report``'s ``maxid``), records that could not be read included where their
id can be told, so that a bad record is not fetched again at every poll.

>>> from mandao._inbound.replies import decode_replies
>>> mo2_cursor(decode_replies("41,106,13800138000,a,2026-12-1 9:30:00\\r\\n42,garbled"))
42
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .decoded import Decoded, Unreadable
    from .replies import Reply
    from .reports import Report

__all__ = ["MO2_MOST", "digits", "mo2_cursor", "report_cursor"]

#: The largest ``maxID`` mo2 takes (an ``xs:int``).
MO2_MOST = 2**31 - 1


def digits(text: str) -> bool:
    """Whether ``text`` is a number of ASCII digits (``'²'.isdigit()`` is True too)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _lead(record: str) -> str:
    return record.partition(",")[0].strip()


def _leading_ids(lines: Sequence[Unreadable]) -> list[int]:
    """The numbers that records which could not be read start with (``123,...``)."""
    return [int(head) for head in map(_lead, (line.raw for line in lines)) if digits(head)]


def mo2_cursor(decoded: Decoded[Reply]) -> int | None:
    """The largest moID of ``decoded`` (a garbled line's leading number too: its lines
    lead with their moID), none past ``maxID``'s ``xs:int`` (a mobile that starts a
    garbled line would make every later mo2 call a fault); None without one."""
    ids = [int(r.mo_id) for r in decoded.items if r.mo_id and digits(r.mo_id)]
    ids += _leading_ids(decoded.unreadable)
    return max((i for i in ids if i <= MO2_MOST), default=None)


def report_cursor(decoded: Decoded[Report]) -> int | None:
    """The largest report id of ``decoded``; None without one.

    A record that could not be read counts by the number it leads with only if the records
    read show that the layout leads with its id, and no longer than theirs: in a layout
    without ids the lead is an rrid or a mobile, a cursor past every later report.
    """
    ids = [r.report_id for r in decoded.items if r.report_id and digits(r.report_id)]
    found = [int(i) for i in ids]
    if ids and all(_lead(r.raw) == r.report_id for r in decoded.items if r.report_id):
        longest = max(map(len, ids))
        found += [i for i in _leading_ids(decoded.unreadable) if len(str(i)) <= longest]
    return max(found, default=None)
