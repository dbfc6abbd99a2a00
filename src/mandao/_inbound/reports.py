"""Delivery reports (回执) from ``report``/``report2``: a tolerant parser, and the classes.

No public source shows what ``reportResult`` holds (Low confidence, see
docs/reports-and-replies.md), so the default parser recognises fields by their shape,
not their position:

- a **timestamp**: ``yyyy-M-d H:mm:ss`` (padded or not, ``-`` or ``/``), else
  ``yyyyMMddHHmmss``, else (not in the first field) ``yyMMddHHmmss`` or CMPP's
  ``YYMMDDhhmm``; with several, the last (a report's done time follows its submit time);
- the **mobile**: ``1[3-9]`` and 9 digits, maybe after ``86``/``+86``/``0086``; when two
  fields look so, the first field is taken for an id and the next one is the mobile;
- the **status**: the first other field holding a letter (``DELIVRD``, ``DB:0103``), a
  negative number, or a key of ``classes``; failing that a short number (``0``), one that
  is a key of ``classes`` first;
- the **ids**, the all-digit fields left: with two or more, the one of 18 digits (the
  length of the gateway's and mandao's rrids) is the rrid, else the second, and the first
  other is the report id; one alone is the rrid when it has 18 digits or is not the first
  field, else the report id (a cursor for ``maxid``, so it must fit an ``xs:long``).

A record with no mobile or no status is kept as Unreadable. A user who learns the real
format plugs in any callable of the :class:`ReportParser` shape instead.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Protocol

from .dates import china_time, compact_time
from .decoded import Decoded, Unreadable, is_empty, refuse_code

__all__ = [
    "DEFAULT_CLASSES",
    "DeliveryClass",
    "Report",
    "ReportParser",
    "TolerantReportParser",
]

#: ``1`` (as ``mo``), ``0`` (one reseller's reading of ``report``, Low) or blank: no report.
EMPTY = frozenset({"", "0", "1"})
_LONG = 2**63 - 1  # maxid is an xs:long
_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9][0-9]{9})")
_LETTER = re.compile(r"[A-Za-z]")
_NEGATIVE = re.compile(r"-[0-9]+")


class DeliveryClass(enum.Enum):
    """What became of a message, as a small set of classes; the operator's code is kept apart."""

    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


_D, _F, _E, _R, _U = DeliveryClass
#: The CMPP status tokens Chinese gateways pass through (Low: Mandao's own vocabulary is
#: not public). ``0`` is "delivered" by the convention of every other 8060 result (0 or a
#: positive number is success); change it with ``classes`` if the vendor says otherwise.
#: A key ending in ``*`` is a prefix: operators' own codes (``DB:0103``, ``MK:0005``) are
#: failures. Anything else is UNKNOWN, with its token kept in ``Report.status``.
DEFAULT_CLASSES: Mapping[str, DeliveryClass] = MappingProxyType(
    {
        "DELIVRD": _D, "DELIVERED": _D, "SUCCESS": _D, "0": _D,
        "UNDELIV": _F, "FAIL": _F, "FAILED": _F, "DELETED": _F, "ERRNUM": _F,
        "EXPIRED": _E,
        "REJECTD": _R, "REJECTED": _R, "DTBLACK": _R, "MBBLACK": _R, "BLACK": _R,
        "UNKNOWN": _U, "ACCEPTD": _U,
        **dict.fromkeys(
            ["DB:*", "MK:*", "MI:*", "MN:*", "MB:*", "MA:*", "MC:*", "MH:*", "IA:*",
             "IB:*", "IC:*", "ID:*", "CA:*", "CB:*", "LT:*", "SP:*"],
            _F,
        ),
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Report:
    """One delivery report: which send, which number, what the operator said.

    Attributes:
        rrid: the send's id (``mdsmssend``'s return value), when one was recognised.
        mobile: the recipient, 11 digits.
        status: the operator's token or code as received (``DELIVRD``, ``DB:0103``, ``0``).
        outcome: ``status`` as one of a few classes.
        at: the report's time, China time; None when the record has none.
        report_id: the record's own id, for the ``maxid`` cursor, when the layout has one.
        raw: the record as received.
    """

    rrid: str | None
    mobile: str | None
    status: str
    outcome: DeliveryClass
    at: datetime | None
    report_id: str | None
    raw: str


class ReportParser(Protocol):
    """Anything that turns a ``report``/``report2`` result into reports: the seam a user fills.

    It is given the result text after result codes were decoded (a negative code never
    reaches it) and returns every record as a Report or an Unreadable, never dropping one.
    """

    def __call__(self, raw: str) -> Decoded[Report]: ...


@lru_cache(maxsize=32)
def _splitter(separators: tuple[str, ...]) -> re.Pattern[str]:
    longest_first = sorted(separators, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in longest_first))


@dataclass(frozen=True)
class TolerantReportParser:
    """The default report parser: records and fields split on configurable separators, each
    field recognised by its shape (see the module's docstring).

    Args:
        record_separators: what separates records (all are accepted, longest first).
        field_separator: what separates fields in a record.
        classes: status token (case-insensitive) to class; a key ending in ``*`` matches
            tokens starting with the rest. ``{**DEFAULT_CLASSES, "2": DeliveryClass.FAILED}``
            extends the default.

    Raises:
        ValueError: a separator is empty, or the field separator also separates records.

    >>> parse = TolerantReportParser()
    >>> [(r.report_id, r.mobile, r.outcome.value) for r in parse(
    ...     "7,100000000000000001,13800138000,DELIVRD,2024-3-1 9:30:00;"
    ...     "8,100000000000000001,13900139000,DB:0103,2024-3-1 9:30:02").items]
    [('7', '13800138000', 'delivered'), ('8', '13900139000', 'failed')]
    """

    record_separators: tuple[str, ...] = ("\r\n", "\n", ";")
    field_separator: str = ","
    classes: Mapping[str, DeliveryClass] = field(default_factory=lambda: DEFAULT_CLASSES)
    _exact: dict[str, DeliveryClass] = field(init=False, repr=False, compare=False)
    _prefixes: tuple[tuple[str, DeliveryClass], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.field_separator or not all(self.record_separators):
            raise ValueError("report separators must not be empty")
        if self.field_separator in self.record_separators:
            raise ValueError(f"the field separator {self.field_separator!r} also separates records")
        exact = {k.strip().upper(): v for k, v in self.classes.items() if not k.endswith("*")}
        prefixes = sorted(
            ((k[:-1].strip().upper(), v) for k, v in self.classes.items() if k.endswith("*")),
            key=lambda item: len(item[0]),
            reverse=True,
        )
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_prefixes", tuple(prefixes))

    def outcome(self, status: str) -> DeliveryClass:
        """The class of a status token: an exact key, else the longest prefix, else UNKNOWN.

        >>> TolerantReportParser().outcome("mk:0005")
        <DeliveryClass.FAILED: 'failed'>
        """
        key = status.strip().upper()
        found = self._exact.get(key)
        if found is not None:
            return found
        for prefix, outcome in self._prefixes:
            if key.startswith(prefix):
                return outcome
        return DeliveryClass.UNKNOWN

    def __call__(self, raw: str) -> Decoded[Report]:
        """Parse a ``report``/``report2`` result: one Report or Unreadable per record.

        ``1``, ``0`` and blank results are no records.

        Raises:
            ValueError: ``raw`` is a negative result code; decode result codes first.
        """
        refuse_code(raw, "TolerantReportParser")
        if is_empty(raw, EMPTY):
            return Decoded((), ())
        if raw.startswith("\ufeff"):
            raw = raw[1:]
        items: list[Report] = []
        unreadable: list[Unreadable] = []
        for record in _splitter(tuple(self.record_separators)).split(raw):
            if not record or record.isspace():
                continue
            got = self._record(record)
            if isinstance(got, Report):
                items.append(got)
            else:
                unreadable.append(got)
        return Decoded(tuple(items), tuple(unreadable))

    def _record(self, record: str) -> Report | Unreadable:
        fields = [f.strip() for f in record.split(self.field_separator)]
        if '"' in record or "'" in record:
            fields = [f.strip("\"'").strip() for f in fields]
        digits: list[int] = []  # all-digit fields: ids, a compact time, a numeric status
        stamps: list[tuple[int, datetime]] = []  # separated timestamps
        mobiles: list[tuple[int, str]] = []
        texts: list[int] = []  # the rest: where a status token is looked for
        for p, f in enumerate(fields):
            if not f:
                continue
            if f.isdigit() and f.isascii():
                digits.append(p)
                if 11 <= len(f) <= 15 and (m := _MOBILE.fullmatch(f)):
                    mobiles.append((p, m.group(1)))
            elif ":" in f and (t := china_time(f)) is not None:
                stamps.append((p, t))
            elif f[0] == "+" and (m := _MOBILE.fullmatch(f)):
                mobiles.append((p, m.group(1)))
            else:
                texts.append(p)
        # A compact time has 10, 12 or 14 digits, a mobile 11, 13 or 15: never both.
        where, at = stamps[-1] if stamps else _compact(fields, digits)
        if len(mobiles) > 1 and mobiles[0][0] == 0:
            del mobiles[0]  # the first field is an id that looks like a mobile
        spot = self._status(fields, texts, digits, where)
        if not mobiles or spot is None:
            missing = " and ".join(
                what for what, gone in (("mobile", not mobiles), ("status", spot is None)) if gone
            )
            return Unreadable(record, f"no {missing} found in the record")
        taken = (where, mobiles[0][0], spot)
        rrid, report_id = _ids([(p, fields[p]) for p in digits if p not in taken])
        status = fields[spot]
        return Report(rrid, mobiles[0][1], status, self.outcome(status), at, report_id, record)

    def _known(self, token: str) -> bool:
        key = token.upper()
        return key in self._exact or any(key.startswith(p) for p, _ in self._prefixes)

    def _status(
        self, fields: list[str], texts: list[int], digits: list[int], where: int
    ) -> int | None:
        for p in texts:
            f = fields[p]
            if _LETTER.search(f) or _NEGATIVE.fullmatch(f) or self._known(f):
                return p
        short = [p for p in digits if p != where and len(fields[p]) <= 4]
        known = [p for p in short if fields[p] in self._exact]
        if known:
            return known[1] if known[0] == 0 and len(known) > 1 else known[0]
        later = [p for p in short if p != 0]
        return later[-1] if later else None


def _compact(fields: list[str], digits: list[int]) -> tuple[int, datetime | None]:
    """The last all-digit field that is a time: 14 digits anywhere, else 12 or 10 digits
    outside the first field (a record id of that length is likelier there)."""
    for lengths, first in (((14,), 0), ((12, 10), 1)):
        for p in reversed(digits):
            if p >= first and len(fields[p]) in lengths:
                at = compact_time(fields[p])
                if at is not None:
                    return p, at
    return -1, None


def _ids(candidates: list[tuple[int, str]]) -> tuple[str | None, str | None]:
    """(rrid, report id) from the all-digit fields left over, in field order."""
    rrid = report_id = None
    if len(candidates) >= 2:
        eighteen = [i for i, (_, v) in enumerate(candidates) if len(v) == 18]
        at = eighteen[0] if len(eighteen) == 1 else 1
        if len(candidates[at][1]) <= 18:
            rrid = candidates[at][1]
        report_id = next(v for i, (_, v) in enumerate(candidates) if i != at)
    elif candidates:
        ((position, value),) = candidates
        if len(value) == 18 or (position != 0 and len(value) < 18):
            rrid = value
        else:
            report_id = value
    if report_id is not None and (len(report_id) > 19 or int(report_id) > _LONG):
        report_id = None
    return rrid, report_id
