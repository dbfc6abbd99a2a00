"""One attempt as the journal has it, and the time bounds the journal's queries take."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from .._errors import ValidationError
from .columns import Entry

__all__ = ["CHINA", "Attempt", "Resolution", "instant"]

#: China Standard Time: the gateway's clock, and the journal's for naive times and days.
CHINA = timezone(timedelta(hours=8))


def instant(value: datetime | date | str, *, argument: str = "since") -> str:
    """A bound of a time range as the journal stores times (UTC ISO 8601).

    Raises:
        ValidationError: ``value`` is text that is not an ISO date or date-time.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                f"expected an ISO date (2026-11-01) or date-time (2026-11-01T09:00), got {value!r}",
                argument=argument,
            ) from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=CHINA)
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)  # the gateway's clock, as for ``stime``
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class Resolution:
    """How an attempt whose outcome was unknown was settled, and on what evidence.

    Attributes:
        outcome: ``"sent"`` (the gateway took it) or ``"not-sent"``.
        source: ``"report"`` (a delivery report named it), ``"ledger"`` (a reconciliation
            against the gateway's or the sandbox's ledger) or ``"operator"`` (someone's word).
        evidence: what showed it, in words.
        time: when it was recorded (UTC ISO 8601).
    """

    outcome: str
    source: str
    evidence: str
    time: str


@dataclass(frozen=True)
class Attempt:
    """One request as the journal has it, with its outcome.

    The fields are in the order of an export's columns.

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
        resolution: how an ``unknown`` (or ``pending``) outcome was settled afterwards
            (:meth:`Journal.resolve`, a delivery report), or None.
        deliveries: each recipient with a delivery report, and its latest report's class
            (``delivered``, ``failed``, ...), when read with ``attempts(deliveries=True)``;
            else None.
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
    outcome: str
    result: str
    detail: str
    latency_ms: float | None
    completed: str | None
    pid: int
    resolution: Resolution | None = None
    deliveries: Mapping[str, str] | None = field(default=None, repr=False)

    @property
    def settled(self) -> bool:
        """Whether the attempt's fate is known: an outcome other than ``pending`` and
        ``unknown``, or a resolution."""
        return self.resolution is not None or self.outcome not in ("pending", "unknown")

    @classmethod
    def _of(
        cls,
        attempt: Entry,
        outcome: Entry | None,
        resolution: tuple[str, str, str, str] | None = None,
    ) -> Attempt:
        """The attempt row and its outcome row (None while pending) as one Attempt.

        Raises ``ValueError`` for a ``contents`` that is not a JSON list (a modified row).
        """
        a, o = attempt, outcome
        content: str | tuple[str, ...] = (
            tuple(json.loads(str(a.contents))) if a.contents is not None else str(a.content or "")
        )
        return cls(
            seq=int(a.seq),
            time=str(a.time),
            sn=str(a.sn or ""),
            operation=str(a.operation or ""),
            protocol=str(a.protocol or ""),
            host=str(a.host or ""),
            rrid=str(a.rrid or ""),
            recipients=tuple(str(a.recipients).split(",")) if a.recipients else (),
            content=content,
            segments=int(a.segments or 0),
            call_id=str(a.call_id or ""),
            batch_index=int(a.batch_index or 0),
            batch_total=int(a.batch_total or 1),
            outcome="pending" if o is None or o.outcome is None else str(o.outcome),
            result="" if o is None else str(o.result or ""),
            detail="" if o is None else str(o.detail or ""),
            latency_ms=None if o is None or o.latency_ms is None else float(o.latency_ms),
            completed=None if o is None else str(o.time),
            pid=int(a.pid or 0),
            resolution=None if resolution is None else Resolution(*resolution),
        )

    def text_for(self, mobile: str) -> str | None:
        """The text sent to ``mobile`` by this attempt, or None if it was not a recipient."""
        if mobile not in self.recipients:
            return None
        if isinstance(self.content, str):
            return self.content
        return self.content[self.recipients.index(mobile)]
