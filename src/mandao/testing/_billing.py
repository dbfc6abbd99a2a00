"""The vendor's billing and length rules (vendor doc §3.1 and code -10), as pure functions."""

from __future__ import annotations

__all__ = ["is_single_byte", "segments", "text_length", "too_long"]

_SHORT = 70  # up to 70 characters is one message
_SHORT_ASCII = 140  # pure single-byte text: up to 140 is one message
_PER_PART = 67  # longer text is billed per 67 characters
_MAX_ASCII = 1000  # -10: single-byte text may not exceed 1000 characters
_MAX_WIDE = 500  # -10: text with double-byte characters may not exceed 500


def is_single_byte(text: str) -> bool:
    """Whether every character is single-byte (ASCII)."""
    return text.isascii()


def text_length(text: str, *, utf16: bool = True) -> int:
    """The length the gateway counts: UTF-16 code units (an emoji is 2) or code points.

    A lone surrogate (``%uD800`` with no partner) is one unit, as in a .NET string.
    """
    if utf16 and not text.isascii():
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text)


def segments(text: str, *, utf16: bool = True) -> int:
    """How many messages ``text`` is billed as, for one recipient.

    >>> segments("a" * 140), segments("a" * 141), segments("你" * 70), segments("你" * 71)
    (1, 3, 1, 2)
    """
    n = text_length(text, utf16=utf16)
    limit = _SHORT_ASCII if is_single_byte(text) else _SHORT
    if n <= limit:
        return 1
    return -(-n // _PER_PART)


def too_long(text: str, *, utf16: bool = True) -> bool:
    """Whether ``text`` exceeds the gateway's limit (-10): 1000 single-byte or 500 otherwise."""
    limit = _MAX_ASCII if is_single_byte(text) else _MAX_WIDE
    return text_length(text, utf16=utf16) > limit
