"""Delivery reports (状态报告): one per recipient of an accepted send, on a clock tests drive.

The live gateway's report format is not publicly documented, so everything here is a
choice a test can change: ``ReportSettings`` (delay, the outcome mix, per-number
overrides, the record layout, the empty answer) and ``REPORT_LAYOUTS`` (the layouts by
name). ``ReportBook`` holds the reports, under the gateway state's lock: made at send time,
due ``delay`` seconds later on the report clock (the gateway's clock plus whatever
``advance`` added), given their increasing report id when they come due, so a client that
reads with a cursor (``maxid``) never misses one that came due late.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import NamedTuple

from ._inbound import china_time, dotnet_time, padded_time

__all__ = [
    "REPORT_LAYOUTS",
    "STATUSES",
    "DeliveryReport",
    "ReportBook",
    "ReportLayout",
    "ReportSettings",
    "layout_named",
]

#: The status tokens the sandbox writes: delivered, failed, expired, rejected (CMPP's).
STATUSES = ("DELIVRD", "UNDELIV", "EXPIRED", "REJECTD")
_FIELDS = frozenset({"id", "rrid", "mobile", "status", "time"})
_FORBIDDEN = (",", ";", "\r", "\n")


class ReportLayout(NamedTuple):
    """How report records are written: which fields in which order, and what separates them.

    ``fields`` are among ``id`` (the report id, the cursor ``maxid`` counts), ``rrid``,
    ``mobile``, ``status`` and ``time``, joined by commas; ``separator`` goes between
    records; ``padded`` writes the time ``yyyy-MM-dd HH:mm:ss`` (else ``yyyy-M-d H:mm:ss``).
    A layout without ``id`` gives the client nothing to move a cursor with: the sandbox then
    hands each record out once, whatever ``maxid`` says.
    """

    name: str
    fields: tuple[str, ...]
    separator: str
    padded: bool = True

    @property
    def has_id(self) -> bool:
        """Whether records start with (or carry) the report id."""
        return "id" in self.fields

    def record(self, report: DeliveryReport) -> str:
        """One report as a record of this layout."""
        when = padded_time(report.time) if self.padded else dotnet_time(report.time)
        values = {
            "id": str(report.id),
            "rrid": report.rrid,
            "mobile": report.mobile,
            "status": report.status,
            "time": when,
        }
        return ",".join(values[name] for name in self.fields)

    def render(self, reports: Iterable[DeliveryReport]) -> str:
        """Records of ``reports`` joined by this layout's separator."""
        return self.separator.join(self.record(r) for r in reports)


#: Every layout the sandbox can write, by name; ``ReportSettings.layout`` names one.
REPORT_LAYOUTS: tuple[ReportLayout, ...] = (
    ReportLayout("crlf", ("id", "rrid", "mobile", "status", "time"), "\r\n"),
    ReportLayout("crlf-no-id", ("rrid", "mobile", "status", "time"), "\r\n"),
    ReportLayout("semicolon", ("id", "rrid", "mobile", "status", "time"), ";"),
    ReportLayout("semicolon-no-id", ("rrid", "mobile", "status", "time"), ";"),
    ReportLayout("mobile-first", ("id", "mobile", "rrid", "status", "time"), "\r\n"),
    ReportLayout("lf-time-first", ("id", "time", "rrid", "mobile", "status"), "\n", False),
)
_BY_NAME = {layout.name: layout for layout in REPORT_LAYOUTS}


def layout_named(name: str) -> ReportLayout:
    """The layout called ``name``; ValueError naming the others when there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        names = ", ".join(_BY_NAME)
        raise ValueError(f"unknown report layout {name!r}; one of {names}") from None


@dataclass(frozen=True)
class ReportSettings:
    """How the sandbox reports on delivery; every default is a choice (docs/sandbox.md).

    Args:
        delay: seconds after a send (after its ``stime`` for a scheduled one) before its
            reports come due, on the report clock (``gw.advance_reports`` moves it).
        failed, expired, rejected: fractions of recipients reported ``UNDELIV``, ``EXPIRED``,
            ``REJECTD``; the rest ``DELIVRD``. Assigned in turn, not drawn: of 1,000 reports
            with ``failed=0.1`` exactly 100 fail, one in each ten.
        overrides: mobile → status token for that number (``{"13800138000": "UNDELIV"}``;
            any token without commas, semicolons or line breaks, e.g. ``"DB:0103"``).
        layout: the name of a layout in ``REPORT_LAYOUTS``.
        empty: what ``report``/``report2`` answer when no record waits.
        per_call: at most this many records in one answer (None: all).
        enabled: False makes no reports at all.

    >>> ReportSettings(failed=0.1).layout, ReportSettings().empty
    ('crlf', '1')
    """

    delay: float = 0.0
    failed: float = 0.0
    expired: float = 0.0
    rejected: float = 0.0
    overrides: Mapping[str, str] = field(default_factory=dict)
    layout: str = "crlf"
    empty: str = "1"
    per_call: int | None = 500
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        shares = (self.failed, self.expired, self.rejected)
        if any(not 0 <= s <= 1 for s in shares) or sum(_fraction(s) for s in shares) > 1:
            raise ValueError("failed, expired and rejected are fractions adding up to 1 at most")
        for mobile, token in dict(self.overrides).items():
            if not token or any(c in token for c in _FORBIDDEN):
                raise ValueError(f"bad status token {token!r} for {mobile}")
        layout_named(self.layout)
        if self.per_call is not None and self.per_call < 1:
            raise ValueError("per_call must be None or at least 1")

    @property
    def report_layout(self) -> ReportLayout:
        """The layout value ``layout`` names."""
        return layout_named(self.layout)


@dataclass(frozen=True)
class DeliveryReport:
    """One recipient's delivery report.

    ``id`` is None until the report comes due (then the next report id); ``rrid`` is the
    id the send returned (the send's rrid, or the one the gateway made); ``time`` is when
    it was delivered (or failed), China time; ``due`` is that moment on the report clock.
    """

    sn: str
    rrid: str
    mobile: str
    status: str
    time: datetime
    due: float
    id: int | None = None


def _fraction(value: float) -> Fraction:
    # Through str: 0.1 is one tenth exactly, not the binary double nearest to it.
    return Fraction(str(value))


class _Mix:
    """Assigns statuses in turn so each share is met as closely as counts allow.

    Each report goes to the status furthest behind its share (its count against
    ``n × share``): no status ever drifts a whole report from its share, so when ``n ×
    share`` is whole for every status, the counts are exactly those.
    """

    def __init__(self, settings: ReportSettings) -> None:
        rest = 1 - sum(_fraction(f) for f in (settings.failed, settings.expired, settings.rejected))
        self._shares = (
            ("DELIVRD", rest),
            ("UNDELIV", _fraction(settings.failed)),
            ("EXPIRED", _fraction(settings.expired)),
            ("REJECTD", _fraction(settings.rejected)),
        )
        self._given = dict.fromkeys(STATUSES, 0)
        self._n = 0

    def next(self) -> str:
        self._n += 1
        n = self._n
        status = max(self._shares, key=lambda s: n * s[1] - self._given[s[0]])[0]
        self._given[status] += 1
        return status


class ReportBook:
    """Reports made and due; not thread-safe (the gateway state's lock guards it)."""

    def __init__(self, settings: ReportSettings) -> None:
        self.settings = settings
        self._mix = _Mix(settings)
        self._seq = itertools.count()
        self._pending: list[tuple[float, int, DeliveryReport]] = []
        self._due: dict[str, list[DeliveryReport]] = {}
        self._served: set[int] = set()
        self._ids = itertools.count(1)
        self._advance = 0.0

    def configure(self, settings: ReportSettings) -> None:
        """Use ``settings`` from now on (the outcome mix starts afresh)."""
        self.settings = settings
        self._mix = _Mix(settings)

    def make(self, sn: str, sends: Iterable[tuple[str, str, float]]) -> int:
        """Make one report per (rrid, mobile, sent-at timestamp); how many were made."""
        if not self.settings.enabled:
            return 0
        made = 0
        for rrid, mobile, sent in sends:
            status = self.settings.overrides.get(mobile) or self._mix.next()
            due = sent + self.settings.delay
            report = DeliveryReport(sn, rrid, mobile, status, china_time(due), due)
            heapq.heappush(self._pending, (due, next(self._seq), report))
            made += 1
        return made

    def advance(self, seconds: float, now: float) -> int:
        """Move the report clock ``seconds`` ahead; how many reports came due."""
        if seconds < 0:
            raise ValueError("the report clock only moves forward")
        self._advance += seconds
        return self.release(now)

    def release(self, now: float, *, everything: bool = False) -> int:
        """Give every report due by ``now`` (or all, ``everything``) its id; how many."""
        horizon = now + self._advance
        released = 0
        while self._pending and (everything or self._pending[0][0] <= horizon):
            _, _, report = heapq.heappop(self._pending)
            done = DeliveryReport(
                report.sn,
                report.rrid,
                report.mobile,
                report.status,
                report.time,
                report.due,
                next(self._ids),
            )
            self._due.setdefault(report.sn, []).append(done)
            released += 1
        return released

    def fetch(self, sn: str, max_id: int, rrid: str | None, now: float) -> str:
        """What ``report`` (``rrid`` None) or ``report2`` answers ``sn`` with ``maxid``."""
        self.release(now)
        layout = self.settings.report_layout
        if layout.has_id:
            wanted = [r for r in self._due.get(sn, []) if r.id is not None and r.id > max_id]
        else:
            wanted = [r for r in self._due.get(sn, []) if r.id not in self._served]
        if rrid:
            wanted = [r for r in wanted if r.rrid == rrid]
        if self.settings.per_call is not None:
            wanted = wanted[: self.settings.per_call]
        if not layout.has_id:
            self._served.update(r.id for r in wanted if r.id is not None)
        return layout.render(wanted) if wanted else self.settings.empty

    def due(self, sn: str | None = None) -> list[DeliveryReport]:
        """Reports that came due (with their ids), oldest first."""
        if sn is not None:
            return list(self._due.get(sn, []))
        return sorted((r for rs in self._due.values() for r in rs), key=lambda r: r.id or 0)

    def due_since(self, sn: str, start: int) -> list[DeliveryReport]:
        """The reports of ``sn`` that came due after its first ``start`` (``due(sn)[start:]``,
        without copying the others): for a reader that keeps its place."""
        return self._due.get(sn, [])[start:]

    def pending(self, sn: str | None = None) -> list[DeliveryReport]:
        """Reports made but not due yet, soonest first."""
        waiting = [r for _, _, r in sorted(self._pending)]
        return [r for r in waiting if sn is None or r.sn == sn]
