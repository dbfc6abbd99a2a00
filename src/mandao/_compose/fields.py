"""A request's other fields, checked as the gateway would: ``ext``, ``stime``, ``rrid``,
``msgfmt`` (-606…-611)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .._errors import ValidationError

__all__ = ["CHINA", "validate_fields"]

#: China Standard Time, the gateway's clock for ``stime`` (no daylight saving).
CHINA = timezone(timedelta(hours=8), "CST")

_DIGITS = re.compile(r"\d*", re.ASCII)
_STIME = "%Y-%m-%d %H:%M:%S"
_MSGFMTS = frozenset({"", "0", "3", "4", "8", "15"})


def validate_fields(
    *, ext: str, rrid: str | None, msgfmt: str | int | None, at: datetime | str | None
) -> tuple[str, str, str, str]:
    """Check ``ext``, ``rrid``, ``msgfmt`` and ``at`` as the gateway would (-606…-611).

    Returns the four fields as the request carries them: ``(ext, stime, rrid, msgfmt)``.

    Raises:
        ValidationError: naming the field (``argument`` is ``ext``, ``rrid``, ``msgfmt``
            or ``at``).

    >>> validate_fields(ext="12", rrid=None, msgfmt=8, at=None)
    ('12', '', '', '8')
    """
    if not isinstance(ext, str) or not _DIGITS.fullmatch(ext) or len(ext) > 9:
        raise ValidationError(f"expected up to 9 digits, got {ext!r}", argument="ext")
    rrid_field = "" if rrid is None else rrid
    if not isinstance(rrid_field, str) or not _DIGITS.fullmatch(rrid_field) or len(rrid_field) > 18:
        raise ValidationError(f"expected up to 18 digits, got {rrid!r}", argument="rrid")
    fmt = "" if msgfmt is None else str(msgfmt)
    if fmt not in _MSGFMTS:
        raise ValidationError(
            f"expected one of 0, 3, 4, 8, 15 (or none), got {msgfmt!r}", argument="msgfmt"
        )
    return ext, _stime(at), rrid_field, fmt


def _stime(at: datetime | str | None) -> str:
    if at is None or at == "":
        return ""
    if isinstance(at, str):
        try:
            at = datetime.strptime(at, _STIME).replace(tzinfo=CHINA)
        except ValueError:
            raise ValidationError(
                f"expected a datetime or 'yyyy-MM-dd HH:mm:ss', got {at!r}", argument="at"
            ) from None
    if not isinstance(at, datetime):
        raise ValidationError(f"expected a datetime, got {type(at).__name__}", argument="at")
    try:
        local = at.replace(tzinfo=CHINA) if at.tzinfo is None else at.astimezone(CHINA)
    except OverflowError:  # an aware time so close to datetime.min/max China time is off it
        raise ValidationError(f"{at} is out of range", argument="at") from None
    if local < datetime.now(CHINA):
        raise ValidationError(f"{local:{_STIME}} China time is in the past", argument="at")
    return f"{local:{_STIME}}"
