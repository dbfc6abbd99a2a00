"""What a text costs: its length as the gateway counts it, its billed segments, an estimate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .._errors import ValidationError
from . import chunked

__all__ = [
    "MAX_ASCII",
    "MAX_WIDE",
    "Estimate",
    "estimate",
    "measure_many",
    "parts_of",
    "segments",
    "units",
    "units_of",
]

#: Vendor doc §3.1: one message up to 70 characters (140 if every one is single-byte),
#: longer text is billed per 67.
_SINGLE, _SINGLE_ASCII, _PER_PART = 70, 140, 67
#: Code -10: at most 500 double-byte or 1000 single-byte characters.
MAX_WIDE, MAX_ASCII = 500, 1000


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


def units(content: str) -> int:
    """The length the gateway counts: .NET's, in UTF-16 code units (an emoji counts twice)."""
    if content.isascii():
        return len(content)
    return len(content.encode("utf-16-le", "surrogatepass")) // 2


def units_of(
    texts: Sequence[str], *, errors: str = "surrogatepass", joined: str | None = None
) -> list[int]:
    """:func:`units` of each text. Without astral characters (emoji) a text's UTF-16 length
    is its ``len``, so one encode of all texts together replaces one per text; ``joined``,
    when given, is the texts joined by any one BMP character (made once by the caller).

    Raises UnicodeEncodeError for a lone surrogate when ``errors="strict"``.
    """
    if joined is None:
        joined = "".join(texts)
    if joined.isascii() or len(joined.encode("utf-16-le", errors)) == 2 * len(joined):
        return list(map(len, texts))
    return list(map(units, texts))


def parts_of(length: int, ascii_only: bool) -> int:
    """Billed parts of a text of ``length`` UTF-16 units (vendor doc §3.1)."""
    if length <= (_SINGLE_ASCII if ascii_only else _SINGLE):
        return 1
    return -(-length // _PER_PART)


def segments(content: str) -> int:
    """Billed parts of one message (vendor doc §3.1; the signature counts).

    >>> segments("字" * 70), segments("字" * 71), segments("a" * 140)
    (1, 2, 1)
    """
    return parts_of(units(content), content.isascii())


def estimate(content: str, *, recipients: int = 1) -> Estimate:
    """Characters, segments and billable messages of ``content`` sent to ``recipients``.

    Raises:
        ValidationError: ``content`` is not text, or ``recipients`` not a whole number ≥ 0.

    >>> estimate("字" * 71, recipients=2)
    Estimate(characters=71, segments=2, recipients=2, billable=4)
    """
    if not isinstance(content, str):
        raise ValidationError(
            f"expected text (str), got {type(content).__name__}", argument="content"
        )
    if isinstance(recipients, bool) or not isinstance(recipients, int) or recipients < 0:
        raise ValidationError(
            f"expected a whole number, 0 or more, got {recipients!r}", argument="recipients"
        )
    parts = segments(content)
    return Estimate(units(content), parts, recipients, parts * recipients)


def measure_many(texts: Sequence[str]) -> tuple[list[int], int]:
    """Each text's segments (as :func:`segments`), and the most characters of any one.

    >>> measure_many(["字" * 71, "a" * 140, "😀"])
    ([2, 1, 1], 140)
    """
    if not texts:
        return [], 0
    if len(texts) > chunked.CHUNK:  # piece by piece (see chunked)
        parts: list[int] = []
        longest = 0
        for piece in chunked.pieces(texts):
            more, most = measure_many(piece)
            parts += more
            longest = max(longest, most)
        return parts, longest
    lengths = units_of(texts)
    longest = max(lengths)
    if longest <= _SINGLE:
        return [1] * len(texts), longest
    return list(map(parts_of, lengths, map(str.isascii, texts))), longest
