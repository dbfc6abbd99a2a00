"""What goes into a request: recipients, content encoding, field checks, segment counting.

Everything here runs before a request is made, so a bad argument raises
:class:`~mandao.ValidationError` and nothing reaches the gateway.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from ._errors import InvalidRecipients, ValidationError

__all__ = [
    "CHINA",
    "ContentRules",
    "Estimate",
    "Recipients",
    "UnencodableWarning",
    "apply_signature",
    "check_gbk",
    "check_signature",
    "choose_msgfmt",
    "collect_mobiles",
    "encode_content",
    "estimate",
    "normalize_mobiles",
    "normalized_with_positions",
    "segments",
    "validate_content",
    "validate_fields",
]

#: China Standard Time, the gateway's clock for ``stime`` (no daylight saving).
CHINA = timezone(timedelta(hours=8), "CST")

_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_SEPARATORS = re.compile(r"[\s\-()]")
_PREFIXES = ("+86", "0086", "86")

#: Vendor doc §3.1: one message up to 70 characters (140 if every one is single-byte),
#: longer text is billed per 67.
_SINGLE, _SINGLE_ASCII, _PER_PART = 70, 140, 67
#: Code -10: at most 500 double-byte or 1000 single-byte characters.
_MAX_WIDE, _MAX_ASCII = 500, 1000


@dataclass(frozen=True)
class Recipients:
    """The numbers of one call, normalised, with what was left out and why.

    Attributes:
        numbers: 11-digit mobiles, in order, each once.
        skipped: ``(position, value, reason)`` of entries left out (``skip_invalid=True``).
        duplicates: ``(position, number)`` of entries already seen earlier in the call.
    """

    numbers: tuple[str, ...]
    skipped: tuple[tuple[int, str, str], ...] = ()
    duplicates: tuple[tuple[int, str], ...] = field(default=())


def normalize_mobiles(mobiles: str | Iterable[str], *, unique: bool = True) -> tuple[str, ...]:
    """Recipients as 11-digit mainland mobiles, in order, each once (unless ``unique=False``).

    Accepts one number or any iterable of numbers; removes spaces, dashes and a ``+86``,
    ``0086`` or ``86`` prefix. Raises :class:`~mandao.InvalidRecipients` naming every
    bad entry and its position, or :class:`~mandao.ValidationError` for an empty list.

    >>> normalize_mobiles(["138 0013 8000", "+86 139-0013-9000", "13800138000"])
    ('13800138000', '13900139000')
    """
    if not unique:
        return normalized_with_positions(mobiles, skip_invalid=False)[0]
    return collect_mobiles(mobiles).numbers


def collect_mobiles(mobiles: str | Iterable[str], *, skip_invalid: bool = False) -> Recipients:
    """Normalise, validate and de-duplicate ``mobiles``; see :class:`Recipients`.

    Raises :class:`~mandao.InvalidRecipients` for bad entries (unless ``skip_invalid``), and
    :class:`~mandao.ValidationError` when no number is left.

    >>> collect_mobiles(["13800138000", "x", "13800138000"], skip_invalid=True)
    Recipients(numbers=('13800138000',), skipped=((1, 'x', ...),), duplicates=((2, '13800138000'),))
    """
    numbers, skipped, positions = normalized_with_positions(mobiles, skip_invalid=skip_invalid)
    # A set is about 3x cheaper than dict.fromkeys on a million new strings, and lists
    # without repeats are the common case; order-keeping de-duplication only when needed.
    unique = numbers if len(set(numbers)) == len(numbers) else tuple(dict.fromkeys(numbers))
    duplicates: tuple[tuple[int, str], ...] = ()
    if len(unique) != len(numbers):
        seen: set[str] = set()
        found = []
        for index, number in enumerate(numbers):
            if number in seen:
                found.append((positions[index] if positions else index, number))
            else:
                seen.add(number)
        duplicates = tuple(found)
    return Recipients(unique, skipped, duplicates)


_DIGITS_AND_COMMAS = b"0123456789,"


def _all_clean(items: list[str] | tuple[str, ...]) -> bool:
    """Whether every item is already an 11-digit mobile, checked on the joined text.

    C-level string operations instead of a regex per item: the joined text is 12n-1
    ASCII digits and commas with exactly n-1 commas, one every 12th character. So no item
    holds a comma, and each item is the 11 digits between two of them.
    """
    try:
        joined = ",".join(items)
    except TypeError:
        return False
    n = len(items)
    if len(joined) != 12 * n - 1 or not joined.isascii():
        return False
    return (
        not joined.encode("ascii").translate(None, _DIGITS_AND_COMMAS)
        and joined.count(",") == n - 1
        and joined[11::12] == "," * (n - 1)
        and joined[0::12] == "1" * n
        and not joined[1::12].strip("3456789")
    )


def normalized_with_positions(
    mobiles: str | Iterable[str], *, skip_invalid: bool
) -> tuple[tuple[str, ...], tuple[tuple[int, str, str], ...], list[int]]:
    """(numbers, skipped, original position of each number; [] when they are 0..n-1)."""
    if isinstance(mobiles, str):
        mobiles = (mobiles,)
    elif not isinstance(mobiles, Iterable):
        raise ValidationError(
            f"expected a mobile number or an iterable of them, got {type(mobiles).__name__}",
            argument="mobiles",
        )
    items = mobiles if isinstance(mobiles, (list, tuple)) else list(mobiles)
    if items and _all_clean(items):
        return tuple(items), (), []
    numbers: list[str] = []
    positions: list[int] = []
    bad: list[tuple[int, str, str]] = []
    for position, raw in enumerate(items):
        if not isinstance(raw, str):
            bad.append((position, repr(raw), f"not a string ({type(raw).__name__})"))
            continue
        number = raw if _MOBILE.fullmatch(raw) else _clean(raw)
        if number is None:
            bad.append((position, raw, "not an 11-digit mainland mobile (1[3-9]xxxxxxxxx)"))
        else:
            numbers.append(number)
            positions.append(position)
    if bad and not skip_invalid:
        raise InvalidRecipients(tuple(bad))
    if not numbers:
        raise ValidationError(
            "no valid recipients given" if bad else "no recipients given", argument="mobiles"
        )
    return tuple(numbers), tuple(bad), positions if bad else []


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


#: A signature: 【, then at least one character that is neither bracket, then 】.
_SIGNED = re.compile(r"【[^【】]+】")


def check_signature(signature: object) -> str | None:
    """The ``signature`` setting as given, checked: text without brackets, or None."""
    if signature is None:
        return None
    if not isinstance(signature, str) or not signature.strip():
        raise ValidationError(f"expected non-empty text, got {signature!r}", argument="signature")
    if "【" in signature or "】" in signature:
        raise ValidationError(
            f"give the name without 【】 (they are added), got {signature!r}", argument="signature"
        )
    return signature


def apply_signature(
    content: str,
    signature: str | None,
    *,
    position: str = "end",
    required: bool = True,
    argument: str = "content",
) -> str:
    """``content`` with ``【signature】`` added when it carries no ``【…】`` (vendor doc §3.2).

    Raises :class:`~mandao.ValidationError` when the content has no signature, none is
    configured and ``required`` is true.

    >>> apply_signature("验证码 1234", "示例")
    '验证码 1234【示例】'
    >>> apply_signature("【其他】验证码 1234", "示例")
    '【其他】验证码 1234'
    """
    if _SIGNED.search(content):
        return content
    if signature is None:
        if required:
            raise ValidationError(
                "carries no 【signature】 and the client has none configured; add one, set "
                "Client(signature=...), or Client(require_signature=False)",
                argument=argument,
            )
        return content
    tag = f"【{signature}】"
    return tag + content if position == "start" else content + tag


def choose_msgfmt(content: str, msgfmt: str) -> str:
    """The ``msgfmt`` to send: the one given, else ``0`` for ASCII text, ``15`` (GB) otherwise.

    >>> choose_msgfmt("code 1234", ""), choose_msgfmt("验证码", ""), choose_msgfmt("x", "8")
    ('0', '15', '8')
    """
    if msgfmt:
        return msgfmt
    return "0" if content.isascii() else "15"


class UnencodableWarning(UserWarning):
    """Content holds characters GBK cannot carry; handsets may show them as ``?``."""


#: msgfmt values whose text travels as GB (GBK); UCS2 (8) and binary carry anything.
_GB_FORMATS = frozenset({"", "15"})


def check_gbk(content: str, msgfmt: str, policy: str, *, argument: str = "content") -> None:
    """Report characters GBK cannot carry when ``msgfmt`` is GB, per ``policy``.

    ``policy`` is ``"error"`` (raise :class:`~mandao.ValidationError`), ``"warn"`` (an
    :class:`UnencodableWarning`) or ``"allow"``. Positions are in code points.
    """
    if policy == "allow" or msgfmt not in _GB_FORMATS or content.isascii():
        return
    try:
        content.encode("gbk")
        return
    except UnicodeEncodeError:
        pass
    bad = [(i, ch) for i, ch in enumerate(content) if not _gbk_ok(ch)]
    shown = ", ".join(f"#{i} {ch!r} (U+{ord(ch):04X})" for i, ch in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    message = (
        f"holds {len(bad)} character(s) GBK cannot carry: {shown}{more}; "
        "send with msgfmt=8 (UCS2) or remove them"
    )
    if policy == "error":
        raise ValidationError(message, argument=argument)
    warnings.warn(f"{argument}: {message}", UnencodableWarning, stacklevel=4)


def _gbk_ok(ch: str) -> bool:
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def encode_content(content: str) -> str:
    """The ``content`` field: UTF-8 percent-encoding, as the vendor asks ("URLUTF8编码").

    Every reserved character is encoded (a space becomes ``%20``, a comma ``%2C``), so the
    gateway's single URL-decode gives back exactly the text, and ``mdgxsend`` can join
    items with a literal comma.

    >>> encode_content("验证码 1+1,【示例】")
    '%E9%AA%8C%E8%AF%81%E7%A0%81%201%2B1%2C%E3%80%90%E7%A4%BA%E4%BE%8B%E3%80%91'
    """
    return content.translate(_QUOTED)


class _Quoted(dict[int, str]):
    """Code point -> its percent-encoded UTF-8, filled on first use, for ``str.translate``.

    One C-level ``translate`` per text is several times faster than ``urllib.parse.quote``
    on Chinese text; the output is identical. The table is capped so that adversarial text
    cannot grow it without bound (past the cap, misses are computed and not kept).
    """

    def __missing__(self, code: int) -> str:
        value = quote(chr(code), safe="")
        if len(self) < 20_000:
            self[code] = value
        return value


_QUOTED = _Quoted()


_DIGITS = re.compile(r"\d*", re.ASCII)
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
    if content.isascii():
        return len(content)
    return len(content.encode("utf-16-le", "surrogatepass")) // 2


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


_POSITIONS = ("end", "start")
_POLICIES = ("warn", "error", "allow")


@dataclass(frozen=True)
class ContentRules:
    """The client's content settings, and the one path every text takes before it is sent.

    ``prepare`` checks the text, adds the signature, checks length (signature counted),
    GBK and ``max_segments``, in that order.
    """

    signature: str | None = None
    signature_position: str = "end"
    require_signature: bool = True
    unencodable: str = "warn"
    max_segments: int | None = None

    def __post_init__(self) -> None:
        check_signature(self.signature)
        for name, value, allowed in (
            ("signature_position", self.signature_position, _POSITIONS),
            ("unencodable", self.unencodable, _POLICIES),
        ):
            if value not in allowed:
                raise ValidationError(
                    f"expected one of {', '.join(map(repr, allowed))}, got {value!r}",
                    argument=name,
                )
        limit = self.max_segments
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ValidationError(
                f"expected a positive whole number or None, got {limit!r}", argument="max_segments"
            )

    def prepare(self, content: object, msgfmt: str, *, argument: str = "content") -> str:
        """The text as it will be sent, or a ValidationError naming ``argument``."""
        text = validate_content(content, argument=argument)
        text = apply_signature(
            text,
            self.signature,
            position=self.signature_position,
            required=self.require_signature,
            argument=argument,
        )
        if text is not content:
            validate_content(text, argument=argument)
        check_gbk(text, choose_msgfmt(text, msgfmt), self.unencodable, argument=argument)
        if self.max_segments is not None and segments(text) > self.max_segments:
            raise ValidationError(
                f"would bill {segments(text)} segments per message; max_segments is "
                f"{self.max_segments} ({_units(text)} characters, signature counted)",
                argument=argument,
            )
        return text

    def prepare_many(
        self, contents: list[object], msgfmt: str, argument: str, positions: list[int]
    ) -> list[str]:
        """:meth:`prepare` for many texts at once; ``argument`` names each by its position
        in the caller's list (``positions[i]``, or ``i`` when ``positions`` is empty).

        Checks that hold for the whole list run once over the joined text; any text a bulk
        check does not clear takes :meth:`prepare`, which raises naming it.
        """
        out: list[str] = []
        for index, content in enumerate(contents):
            if (
                type(content) is str
                and "【" in content
                and _SIGNED.search(content)
                and content.strip()
                and len(content) <= (_MAX_ASCII if content.isascii() else _MAX_WIDE)
            ):
                out.append(content)
                continue
            out.append(
                self.prepare(
                    content,
                    msgfmt,
                    argument=argument.format(positions[index] if positions else index),
                )
            )
        joined = "\n".join(out)
        wide = True  # a lone surrogate fails the first encode: full checks then
        try:
            wide = len(joined.encode("utf-16-le")) // 2 != len(joined)
            if self.unencodable != "allow" and msgfmt in _GB_FORMATS:
                joined.encode("gbk")
            missed = False
        except UnicodeEncodeError:
            missed = True
        if wide or missed or self.max_segments is not None:
            # Emoji, GBK misses or a segment cap: each text gets the full check.
            for index, text in enumerate(out):
                self.prepare(
                    text, msgfmt, argument=argument.format(positions[index] if positions else index)
                )
        return out
