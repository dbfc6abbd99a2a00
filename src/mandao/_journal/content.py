"""What the journal reads from a request: its text(s) as sent, their segments, masked numbers."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence

from .._compose.segments import segments

__all__ = ["mask", "segments_of", "texts_of", "unquote"]


def mask(mobile: str) -> str:
    """``13800138000`` → ``138****8000`` (vendor terms, item 9: keep customers' data private).

    >>> mask("13800138000")
    '138****8000'
    """
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 8 else "*" * len(mobile)


def count_of(numbers: Collection[str]) -> str:
    """``1 number``, ``3 numbers``."""
    n = len(numbers)
    return f"{n} number{'s' if n != 1 else ''}"


def shown(numbers: Iterable[str]) -> str:
    """The first ten of ``numbers``, masked, for a message.

    >>> shown(["13800138000", "13900139000"])
    '138****8000, 139****9000'
    """
    listed = list(numbers)
    return ", ".join(mask(n) for n in listed[:10]) + (" …" if len(listed) > 10 else "")


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def unquote(text: str) -> str:
    """``urllib.parse.unquote``, about 3x faster on Chinese text (one decode per run).

    >>> from urllib.parse import unquote as reference
    >>> unquote("%E9%AA%8C%E8%AF%81%E7%A0%81%201%2C%E3%80%90a%E3%80%91") == reference(
    ...     "%E9%AA%8C%E8%AF%81%E7%A0%81%201%2C%E3%80%90a%E3%80%91")
    True
    """
    if "%" not in text:
        return text
    return _ESCAPES.sub(
        lambda run: bytes.fromhex(run.group().replace("%", "")).decode("utf-8", "replace"), text
    )


# The last field decoded, and its texts: the duplicate guard and the journal's recorder
# read the very same field of a request, one after the other (1,000 texts decode in about
# 4 ms). Matched by identity, never by value: no hashing of a long field.
_last: tuple[str, str, str | list[str]] = ("", "", "")


def pairs_of(recipients: Iterable[str], texts: str | Sequence[str]) -> Iterator[tuple[str, str]]:
    """Each recipient with its text: the one text of a send, or (mdgxsend) its own.

    >>> list(pairs_of(["13800138000", "13900139000"], "hi"))
    [('13800138000', 'hi'), ('13900139000', 'hi')]
    """
    if isinstance(texts, str):
        return ((number, texts) for number in recipients)
    return zip(recipients, texts, strict=True)


def texts_of(operation: str, content: str) -> str | list[str]:
    """The text(s) as sent, from the percent-encoded ``content`` field (not to be changed:
    the same list may be given to the next caller of the same field).

    >>> texts_of("mdgxsend", "a%2C1,b")
    ['a,1', 'b']
    """
    global _last
    op, field, texts = _last  # one read: another thread may set it meanwhile
    if field is content and op == operation:
        return texts
    if operation == "mdgxsend":
        texts = [unquote(part) for part in content.split(",")]
    else:
        texts = unquote(content)
    _last = (operation, content, texts)
    return texts


def segments_of(texts: str | list[str]) -> int:
    """Billed parts per message: of the text, or the longest of per-number texts."""
    if isinstance(texts, str):
        return segments(texts) if texts else 0
    return max(segments(text) for text in texts)
