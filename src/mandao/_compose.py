"""What goes into a request: recipients, content encoding, field checks, segment counting.

Everything here runs before a request is made, so a bad argument raises
:class:`~mandao.ValidationError` and nothing reaches the gateway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from ._errors import InvalidRecipients, ValidationError

__all__ = [
    "CHINA",
    "Estimate",
    "encode_content",
    "estimate",
    "normalize_mobiles",
    "segments",
    "validate_content",
    "validate_fields",
]

#: China Standard Time, the gateway's clock for ``stime`` (no daylight saving).
CHINA = timezone(timedelta(hours=8), "CST")

_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-()]")
_PREFIXES = ("+86", "0086", "86")

#: Vendor doc §3.1: one message up to 70 characters (140 if every one is single-byte),
#: longer text is billed per 67.
_SINGLE, _SINGLE_ASCII, _PER_PART = 70, 140, 67
#: Code -10: at most 500 double-byte or 1000 single-byte characters.
_MAX_WIDE, _MAX_ASCII = 500, 1000


def normalize_mobiles(mobiles: str | Iterable[str], *, unique: bool = True) -> tuple[str, ...]:
    """Recipients as 11-digit mainland mobiles, in order, each once (unless ``unique=False``).

    Accepts one number or any iterable of numbers; removes spaces, dashes and a ``+86``,
    ``0086`` or ``86`` prefix. Raises :class:`~mandao.InvalidRecipients` naming every
    bad entry and its position, or :class:`~mandao.ValidationError` for an empty list.

    >>> normalize_mobiles(["138 0013 8000", "+86 139-0013-9000", "13800138000"])
    ('13800138000', '13900139000')
    """
    if isinstance(mobiles, str):
        mobiles = (mobiles,)
    elif not isinstance(mobiles, Iterable):
        raise ValidationError(
            f"expected a mobile number or an iterable of them, got {type(mobiles).__name__}",
            argument="mobiles",
        )
    numbers: list[str] = []
    bad: list[tuple[int, str, str]] = []
    for position, raw in enumerate(mobiles):
        if not isinstance(raw, str):
            bad.append((position, repr(raw), f"not a string ({type(raw).__name__})"))
            continue
        number = raw if _MOBILE.fullmatch(raw) else _clean(raw)
        if number is None:
            bad.append((position, raw, "not an 11-digit mainland mobile (1[3-9]xxxxxxxxx)"))
        else:
            numbers.append(number)
    if bad:
        raise InvalidRecipients(tuple(bad))
    if not numbers:
        raise ValidationError("no recipients given", argument="mobiles")
    return tuple(dict.fromkeys(numbers)) if unique else tuple(numbers)


def _clean(raw: str) -> str | None:
    number = _SEPARATORS.sub("", raw)
    for prefix in _PREFIXES:
        if number.startswith(prefix) and len(number) == len(prefix) + 11:
            number = number[len(prefix) :]
            break
    return number if _MOBILE.fullmatch(number) else None


def validate_content(content: object, *, argument: str = "content") -> str:
    """Check that ``content`` is sendable text within the gateway's length limit (-10)."""
    if not isinstance(content, str):
        raise ValidationError(
            f"expected text (str), got {type(content).__name__}", argument=argument
        )
    if not content.strip():
        raise ValidationError("is empty", argument=argument)
    try:
        content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"holds a character UTF-8 cannot carry at position {exc.start} "
            "(a lone surrogate); fix the text",
            argument=argument,
        ) from None
    limit = _MAX_ASCII if content.isascii() else _MAX_WIDE
    if _units(content) > limit:
        raise ValidationError(
            f"is {_units(content)} characters; the gateway takes at most {limit} "
            f"{'single-byte' if limit == _MAX_ASCII else 'double-byte'} characters (-10)",
            argument=argument,
        )
    return content


def encode_content(content: str) -> str:
    """The ``content`` field: UTF-8 percent-encoding, as the vendor asks ("URLUTF8编码").

    Every reserved character is encoded (a space becomes ``%20``, a comma ``%2C``), so the
    gateway's single URL-decode gives back exactly the text, and ``mdgxsend`` can join
    items with a literal comma.

    >>> encode_content("验证码 1+1,【示例】")
    '%E9%AA%8C%E8%AF%81%E7%A0%81%201%2B1%2C%E3%80%90%E7%A4%BA%E4%BE%8B%E3%80%91'
    """
    return quote(content, safe="")


_DIGITS = re.compile(r"\d*")
_STIME = "%Y-%m-%d %H:%M:%S"
_MSGFMTS = frozenset({"", "0", "3", "4", "8", "15"})


def validate_fields(
    *, ext: str, rrid: str | None, msgfmt: str | int | None, at: datetime | str | None
) -> tuple[str, str, str, str]:
    """Check ``ext``, ``rrid``, ``msgfmt`` and ``at`` as the gateway would (-606…-611).

    Returns the four fields as the request carries them: ``(ext, stime, rrid, msgfmt)``.
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
    local = at.replace(tzinfo=CHINA) if at.tzinfo is None else at.astimezone(CHINA)
    if local < datetime.now(CHINA):
        raise ValidationError(f"{local:{_STIME}} China time is in the past", argument="at")
    return f"{local:{_STIME}}"


def _units(content: str) -> int:
    # The gateway counts .NET string length: UTF-16 code units, so an emoji counts twice.
    return len(content) + sum(1 for ch in content if ord(ch) > 0xFFFF)


@dataclass(frozen=True)
class Estimate:
    """What a message costs: characters, segments, and billable messages.

    >>> estimate("验证码 1234【示例】", recipients=3)
    Estimate(characters=12, segments=1, recipients=3, billable=3)
    """

    characters: int
    segments: int
    recipients: int
    billable: int


def segments(content: str) -> int:
    """Billed parts of one message (vendor doc §3.1; the signature counts)."""
    n = _units(content)
    single = _SINGLE_ASCII if content.isascii() else _SINGLE
    return 1 if n <= single else -(-n // _PER_PART)


def estimate(content: str, *, recipients: int = 1) -> Estimate:
    """Characters, segments and billable messages of ``content`` sent to ``recipients``."""
    parts = segments(content)
    return Estimate(_units(content), parts, recipients, parts * recipients)
