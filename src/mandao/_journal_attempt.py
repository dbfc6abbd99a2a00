"""One attempt as the journal has it, and the time bounds the journal's queries take."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

__all__ = ["CHINA", "Attempt", "instant"]

#: China Standard Time: the gateway's clock, and the journal's for naive times and days.
CHINA = timezone(timedelta(hours=8))

#: An attempt joined with its outcome row, if there is one.
_ATTEMPTS = (
    "SELECT a.seq, a.time, a.sn, a.operation, a.protocol, a.host, a.rrid, a.recipients,"
    " a.content, a.contents, a.segments, a.call_id, a.batch_index, a.batch_total, a.pid,"
    " coalesce(o.outcome, 'pending'), coalesce(o.result, ''), coalesce(o.detail, ''),"
    " o.latency_ms, o.time FROM entries a LEFT JOIN entries o ON o.attempt = a.seq"
    " WHERE a.kind = 'attempt'"
)


def instant(value: datetime | date | str) -> str:
    """A bound of a time range as the journal stores times (UTC ISO 8601)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=CHINA)
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)  # the gateway's clock, as for ``stime``
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Attempt:
    """One request as the journal has it, with its outcome.

    Attributes:
        seq: its row number in the journal.
        time: when it was written (UTC ISO 8601), just before the request left.
        sn, operation, protocol, host, rrid: what went where.
        recipients: the mobiles it carried, in order.
        content: the text (``mdsmssend``), or one text per recipient (``mdgxsend``).
        segments: billed parts per message (the longest, for ``mdgxsend``).
        call_id, batch_index, batch_total: which batch of which client call.
        outcome: ``pending``, ``accepted``, ``rejected``, ``unknown`` or ``unreachable``.
        result: the gateway's id (accepted) or code (rejected).
        detail: the error message, for the other outcomes.
        latency_ms: from the pending row to the answer.
        completed: when the outcome row was written, or None.
        pid: the process that sent it.
    """

    seq: int
    time: str
    sn: str
    operation: str
    protocol: str
    host: str
    rrid: str
    recipients: tuple[str, ...] = field(repr=False)
    content: str | tuple[str, ...] = field(repr=False)
    segments: int
    call_id: str
    batch_index: int
    batch_total: int
    pid: int
    outcome: str
    result: str
    detail: str
    latency_ms: float | None
    completed: str | None

    @classmethod
    def _from_row(cls, row: Sequence[Any]) -> Attempt:
        recipients = tuple(str(row[7]).split(",")) if row[7] else ()
        content: str | tuple[str, ...] = (
            tuple(json.loads(str(row[9]))) if row[9] is not None else str(row[8] or "")
        )
        return cls(
            int(row[0]), str(row[1]), str(row[2] or ""), str(row[3] or ""), str(row[4] or ""),
            str(row[5] or ""), str(row[6] or ""), recipients, content, int(row[10] or 0),
            str(row[11] or ""), int(row[12] or 0), int(row[13] or 1), int(row[14] or 0),
            str(row[15]), str(row[16]), str(row[17]),
            None if row[18] is None else float(row[18]),
            None if row[19] is None else str(row[19]),
        )  # fmt: skip

    def text_for(self, mobile: str) -> str | None:
        """The text sent to ``mobile`` by this attempt, or None if it was not a recipient."""
        if mobile not in self.recipients:
            return None
        if isinstance(self.content, str):
            return self.content
        return self.content[self.recipients.index(mobile)]
