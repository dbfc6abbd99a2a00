"""Plausible layouts of a ``report`` result, for the sandbox to emit and the parser to read.

The real layout is not public (Low confidence). These are the shapes the tolerant parser
is tested on, every one round-tripped by ``tests/test_inbound_reports.py``: field orders
with and without a report id first, CRLF, LF and ``;`` between records, padded, unpadded
and compact timestamps, a mobile with and without ``86``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .dates import CHINA

__all__ = ["FIELDS", "LAYOUTS", "Layout", "layout"]

#: The names a layout orders.
FIELDS = frozenset({"report_id", "rrid", "mobile", "status", "at"})
_FORMATS = frozenset({"padded", "unpadded", "compact"})


@dataclass(frozen=True, slots=True)
class Layout:
    """One way to write report records: field order, record separator, time format.

    Args:
        name: what tests and the sandbox call it.
        fields: the order of ``report_id``, ``rrid``, ``mobile``, ``status``, ``at`` (a
            layout may leave ``report_id`` out).
        separator: between records.
        time_format: ``"padded"`` (``2024-03-01 09:05:07``), ``"unpadded"`` (.NET's
            ``2024-3-1 9:05:07``) or ``"compact"`` (``20240301090507``).
        mobile_prefix: written before the mobile (``"86"``).

    >>> at = datetime(2024, 3, 1, 9, 5, 7, tzinfo=CHINA)
    >>> layout("id-rrid-mobile-status-at/crlf").render(7, "1" * 18, "13800138000", "DELIVRD", at)
    '7,111111111111111111,13800138000,DELIVRD,2024-03-01 09:05:07'
    """

    name: str
    fields: tuple[str, ...]
    separator: str = "\r\n"
    time_format: str = "padded"
    mobile_prefix: str = ""

    def __post_init__(self) -> None:
        names = set(self.fields)
        missing = FIELDS - names
        if len(names) != len(self.fields) or not names <= FIELDS or not missing <= {"report_id"}:
            raise ValueError(f"layout {self.name}: fields must order {sorted(FIELDS)}")
        if self.time_format not in _FORMATS:
            raise ValueError(f"layout {self.name}: time_format is one of {sorted(_FORMATS)}")

    def render(
        self, report_id: int | str | None, rrid: str, mobile: str, status: str, at: datetime
    ) -> str:
        """One record; ``at`` in China time (a naive datetime is taken as China time)."""
        values = {
            "report_id": "" if report_id is None else str(report_id),
            "rrid": rrid,
            "mobile": self.mobile_prefix + mobile,
            "status": status,
            "at": self._time(at),
        }
        return ",".join(values[name] for name in self.fields)

    def join(self, records: Iterable[str]) -> str:
        """Records joined into one result, as ``report`` would answer them."""
        return self.separator.join(records)

    def _time(self, at: datetime) -> str:
        local = at.astimezone(CHINA) if at.tzinfo is not None else at
        if self.time_format == "compact":
            return local.strftime("%Y%m%d%H%M%S")
        if self.time_format == "unpadded":
            return (
                f"{local.year}-{local.month}-{local.day} "
                f"{local.hour}:{local.minute:02d}:{local.second:02d}"
            )
        return local.strftime("%Y-%m-%d %H:%M:%S")


_ID = ("report_id",)
_CORE = ("rrid", "mobile", "status", "at")
#: The layouts the sandbox can emit; the parser reads each back exactly.
LAYOUTS: tuple[Layout, ...] = (
    Layout("id-rrid-mobile-status-at/crlf", _ID + _CORE),
    Layout("rrid-mobile-status-at/crlf", _CORE),
    Layout("id-mobile-rrid-status-at/lf", ("report_id", "mobile", "rrid", "status", "at"), "\n"),
    Layout("id-rrid-mobile-at-status/semicolon", ("report_id", "rrid", "mobile", "at", "status"),
           ";"),
    Layout("rrid-mobile-status-at/semicolon", _CORE, ";"),
    Layout("id-rrid-mobile-status-compact/crlf", _ID + _CORE, time_format="compact"),
    Layout("id-mobile-status-at-rrid/lf-unpadded", ("report_id", "mobile", "status", "at", "rrid"),
           "\n", "unpadded"),
    Layout("id-at-rrid-mobile-status/lf-unpadded", ("report_id", "at", "rrid", "mobile", "status"),
           "\n", "unpadded"),
    Layout("mobile-status-at-rrid/crlf", ("mobile", "status", "at", "rrid")),
    Layout("id-rrid-86mobile-status-at/crlf", _ID + _CORE, mobile_prefix="86"),
)  # fmt: skip
_BY_NAME = {each.name: each for each in LAYOUTS}


def layout(name: str) -> Layout:
    """The layout of :data:`LAYOUTS` with this name.

    Raises:
        KeyError: no layout has this name (the message lists them).
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no report layout {name!r}; known: {', '.join(_BY_NAME)}") from None
