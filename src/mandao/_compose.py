"""What goes into a request besides its numbers: content checks and encoding, the other
fields, segment counting (numbers live in ``_numbers``).

Everything here runs before a request is made, so a bad argument raises
:class:`~mandao.ValidationError` and nothing reaches the gateway.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import repeat

from ._errors import ValidationError
from ._rules import ContentRules, check_signature

__all__ = [
    "CHINA",
    "ContentRules",
    "Estimate",
    "UnencodableWarning",
    "apply_signature",
    "check_gbk",
    "check_signature",
    "choose_msgfmt",
    "encode_content",
    "encode_contents",
    "estimate",
    "measure_many",
    "prepare_text",
    "prepare_texts",
    "segments",
    "validate_content",
    "validate_fields",
]

#: China Standard Time, the gateway's clock for ``stime`` (no daylight saving).
CHINA = timezone(timedelta(hours=8), "CST")

#: Vendor doc §3.1: one message up to 70 characters (140 if every one is single-byte),
#: longer text is billed per 67.
_SINGLE, _SINGLE_ASCII, _PER_PART = 70, 140, 67
#: Code -10: at most 500 double-byte or 1000 single-byte characters.
_MAX_WIDE, _MAX_ASCII = 500, 1000


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


#: A signature at the very start or end of a text.
_SIGNED_START = re.compile(r"【[^【】]+】")
_SIGNED_END = re.compile(r"【[^【】]+】\Z")


def _all_signed(joined: str, texts: list[str]) -> bool:
    """Whether every text starts, or every text ends, with the first text's signature.

    The common case (one signature for all), proven by one count over ``joined``, the
    texts joined by NUL (which none of them holds). False means: look text by text.
    """
    n = len(texts)
    end = _SIGNED_END.search(texts[0])
    if end and joined.endswith(end[0]) and joined.count(end[0] + "\x00") == n - 1:
        return True
    start = _SIGNED_START.match(texts[0])
    return bool(start and joined.startswith(start[0]) and joined.count("\x00" + start[0]) == n - 1)


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

    Every byte is encoded, reserved or not (a space is ``%20``, a comma ``%2c``, a ``1``
    ``%31``), so the gateway's single URL-decode gives back exactly the text, and
    ``mdgxsend`` can join items with a literal comma. Encoding every byte is one C-level
    ``bytes.hex`` per text; a decoder reads ``%31`` as ``1`` and lower-case hex digits as
    upper-case ones (RFC 3986 §2.1, ``HttpUtility.UrlDecode``).

    >>> encode_content("码 1+1,【例】")
    '%e7%a0%81%20%31%2b%31%2c%e3%80%90%e4%be%8b%e3%80%91'
    """
    return "%" + content.encode("utf-8").hex("%") if content else ""


def encode_contents(texts: Sequence[str]) -> str:
    """``mdgxsend``'s ``content`` field: each text encoded on its own, joined by commas.

    >>> encode_contents(["a,b", "你"])
    '%61%2c%62,%e4%bd%a0'
    """
    if not texts or "" in texts:
        return ",".join(map(encode_content, texts))
    return "%" + ",%".join(map(bytes.hex, map(str.encode, texts), repeat("%")))


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


def measure_many(texts: Sequence[str]) -> tuple[list[int], int]:
    """Each text's segments (as :func:`segments`), and the most characters of any one.

    Without astral characters (emoji) a text's UTF-16 length is its ``len``, so one encode
    of all texts together replaces one per text.

    >>> measure_many(["字" * 71, "a" * 140, "😀"])
    ([2, 1, 1], 140)
    """
    if not texts:
        return [], 0
    joined = "".join(texts)
    if len(joined.encode("utf-16-le", "surrogatepass")) != 2 * len(joined):
        return [segments(text) for text in texts], max(map(_units, texts))
    lengths = list(map(len, texts))
    longest = max(lengths)
    if longest <= _SINGLE:
        return [1] * len(texts), longest
    parts = [
        1 if n <= (_SINGLE_ASCII if text.isascii() else _SINGLE) else -(-n // _PER_PART)
        for n, text in zip(lengths, texts, strict=True)
    ]
    return parts, longest


def prepare_text(
    self: ContentRules, content: object, msgfmt: str, *, argument: str = "content"
) -> str:
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


def prepare_texts(
    self: ContentRules, contents: list[object], msgfmt: str, argument: str, positions: list[int]
) -> list[str]:
    """:meth:`prepare` for many texts at once; ``argument`` names each by its position
    in the caller's list (``positions[i]``, or ``i`` when ``positions`` is empty).

    Every check runs over all texts together (C-level passes over the joined text, a
    ``map`` for the signature); when one does not clear them all, each text takes
    :meth:`prepare` in order, which raises naming the first bad one.
    """
    texts = _prepare_all(self, contents, msgfmt)
    if texts is not None:
        return texts
    return _prepare_each(self, contents, msgfmt, argument, positions)


def _prepare_all(self: ContentRules, contents: list[object], msgfmt: str) -> list[str] | None:
    """The texts as :meth:`prepare` returns them, or None when any check is not met."""
    try:
        joined = "\x00".join(contents)  # type: ignore[arg-type]  # TypeError: not all str
    except TypeError:
        return None
    # A NUL inside a text would make the joined text ambiguous: take the full path.
    if joined.count("\x00") != len(contents) - 1:
        return None
    texts: list[str] = contents  # type: ignore[assignment]  # all str, checked above
    if not _all_signed(joined, texts) and not all(map(_SIGNED.search, texts)):
        unsigned = [i for i, text in enumerate(texts) if not _SIGNED.search(text)]
        if self.signature is None and self.require_signature:
            return None
        texts = list(texts)
        for i in unsigned:
            if not texts[i].strip():
                return None  # empty: refused with its reason by prepare
            if self.signature is not None:
                texts[i] = apply_signature(
                    texts[i], self.signature, position=self.signature_position
                )
        joined = "\x00".join(texts)
    # A signed text is not empty. Lone surrogates fail the strict encode; astral
    # characters count twice in UTF-16: both take the per-text path.
    try:
        if len(joined.encode("utf-16-le")) != 2 * len(joined):
            return None
    except UnicodeEncodeError:
        return None
    if max(map(len, texts)) > _MAX_WIDE and any(
        len(text) > (_MAX_ASCII if text.isascii() else _MAX_WIDE) for text in texts
    ):
        return None
    if self.unencodable != "allow" and msgfmt in _GB_FORMATS and not joined.isascii():
        try:
            joined.encode("gbk")
        except UnicodeEncodeError:
            return None  # reported (or warned about) per text, with positions
    if self.max_segments is not None and max(measure_many(texts)[0]) > self.max_segments:
        return None
    return texts


def _prepare_each(
    self: ContentRules, contents: list[object], msgfmt: str, argument: str, positions: list[int]
) -> list[str]:
    """:meth:`prepare` on each text in order (raising for the first bad one)."""
    texts = []
    for index, content in enumerate(contents):
        name = argument.format(positions[index] if positions else index)
        texts.append(prepare_text(self, content, msgfmt, argument=name))
    return texts
