"""The ``content`` field as the gateway takes it: every byte of its UTF-8 percent-encoded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import repeat

from .._errors import ValidationError

__all__ = [
    "control_in",
    "control_in_name",
    "encode_content",
    "encode_contents",
    "lone_surrogate",
    "surrogate_message",
]

#: What no phone shows: the C0 controls but tab, line feed and carriage return; DEL; and
#: the C1 controls (U+0085 comes with text pasted from old Windows programs).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_BUT_NUL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: In a name (the signature), tab and line breaks too (Unicode's line and paragraph
#: separators among them).
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BREAKS = "\t\n\r\x0b\x0c\x85\u2028\u2029"


def control_in(texts: Sequence[str], joined: str) -> tuple[int, str] | None:
    r"""The first of ``texts`` holding a control character, and why it is refused; None
    when none does. ``joined``: the texts joined by NUL (one C-level pass for them all).

    >>> control_in(["ok", "x\x00y"], "ok\x00x\x00y")
    (1, 'holds the control character U+0000 at position 1, which no phone shows; remove it (tab, line feed and carriage return are kept)')
    """  # noqa: E501
    if joined.count("\x00") == len(texts) - 1 and not _CONTROL_BUT_NUL.search(joined):
        return None
    for index, text in enumerate(texts):
        if (found := _CONTROL.search(text)) is not None:
            return index, _control(found, "(tab, line feed and carriage return are kept)")
    return None  # pragma: no cover - the count or the search above found one


def control_in_name(name: str) -> str | None:
    r"""Why ``name`` (a signature) holding a control character, line breaks and tab
    included, is refused; None when it holds none.

    >>> control_in_name("示\x1b例")
    'holds the control character U+001B at position 1, which no phone shows; remove it'
    >>> control_in_name("示例\n")
    'holds a tab or line break (U+000A) at position 2: a signature is one line of text; remove it'
    """
    found = _ANY_CONTROL.search(name)
    if found is not None and found[0] in _BREAKS:
        return (
            f"holds a tab or line break (U+{ord(found[0]):04X}) at position {found.start()}: "
            "a signature is one line of text; remove it"
        )
    return None if found is None else _control(found, "").rstrip()


def _control(found: re.Match[str], kept: str) -> str:
    return (
        f"holds the control character U+{ord(found[0]):04X} at position {found.start()}, "
        f"which no phone shows; remove it {kept}"
    )


def lone_surrogate(text: str) -> int | None:
    """The position of the first character UTF-8 cannot carry (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def surrogate_message(position: int) -> str:
    """Why a text holding a lone surrogate at ``position`` is refused."""
    return (
        f"holds a character UTF-8 cannot carry at position {position} "
        "(a lone surrogate); fix the text"
    )


def encode_content(content: str, *, argument: str = "content") -> str:
    """The ``content`` field: UTF-8 percent-encoding, as the vendor asks ("URLUTF8编码").

    Every byte is encoded, reserved or not (a space is ``%20``, a comma ``%2c``, a ``1``
    ``%31``), so the gateway's single URL-decode gives back exactly the text, and
    ``mdgxsend`` can join items with a literal comma. Encoding every byte is one C-level
    ``bytes.hex`` per text; a decoder reads ``%31`` as ``1`` and lower-case hex digits as
    upper-case ones (RFC 3986 §2.1, ``HttpUtility.UrlDecode``).

    Raises:
        ValidationError: the text holds a lone surrogate.

    >>> encode_content("码 1+1,【例】")
    '%e7%a0%81%20%31%2b%31%2c%e3%80%90%e4%be%8b%e3%80%91'
    """
    try:
        return "%" + content.encode("utf-8").hex("%") if content else ""
    except UnicodeEncodeError as exc:
        raise ValidationError(surrogate_message(exc.start), argument=argument) from None


def encode_contents(texts: Sequence[str]) -> str:
    """``mdgxsend``'s ``content`` field: each text encoded on its own, joined by commas.

    Raises:
        ValidationError: a text holds a lone surrogate (``argument="content[i]"``).

    >>> encode_contents(["a,b", "你"])
    '%61%2c%62,%e4%bd%a0'
    """
    try:
        if not texts or "" in texts:
            return ",".join(map(encode_content, texts))
        return "%" + ",%".join(map(bytes.hex, map(str.encode, texts), repeat("%")))
    except (UnicodeEncodeError, ValidationError):
        index, position = next(
            (i, at) for i, at in enumerate(map(lone_surrogate, texts)) if at is not None
        )
        raise ValidationError(surrogate_message(position), argument=f"content[{index}]") from None
