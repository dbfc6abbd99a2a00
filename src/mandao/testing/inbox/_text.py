"""What the inbox reads in one text: its billed parts, signature, encoding, warnings and codes.

Pure functions, no I/O. The billing rule is the vendor's (``_billing.segments``: up to 70
characters, or 140 of pure ASCII, is one message; longer text is billed per 67), and
:func:`split_parts` cuts the text as a handset's concatenated message carries it: parts
of at most 67 UTF-16 units, an emoji never cut in two. That is ``segments(t)`` parts for
most texts, and more when an emoji straddles a cut of the bill's count (or the gateway
counts code points, ``Rules(count_utf16=False)``): a warning then says "the handset
shows N parts, billed as M". The warnings are a small set a careful sender wants to
hear about before a campaign goes out (docs/sandbox.md, "The inbox", lists them).
"""

from __future__ import annotations

import re
import unicodedata

from .._billing import segments

__all__ = ["codes", "encoding", "signature", "signature_span", "split_parts", "warnings"]

_PER_PART = 67  # longer text is billed per 67 characters (the vendor's rule)
_SHORT = 70  # up to 70 UTF-16 units is one message
_SHORT_ASCII = 140  # pure ASCII: up to 140
_SIGNATURE = re.compile(r"【[^【】]+】")
# A signature written with ASCII or other look-alike brackets, at either end of the text.
_BRACKETED = r"[\[［(（〔][^\[\]［］()（）〔〕【】]{1,20}[\]］)）〕]"
_ASCII_SIGNATURE = re.compile(rf"\A\s*({_BRACKETED})|({_BRACKETED})\s*\Z")
_CODE = re.compile(r"(?<![0-9])[0-9]{4,8}(?![0-9])", re.ASCII)
# Characters that show nothing (or nothing sensible) and still count, and make ASCII UCS-2.
_INVISIBLE = frozenset(
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\ufeff"
)
# Non-ASCII punctuation that word processors put in for ASCII: each makes a text UCS-2.
_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u3000": " ",
    "\u00b7": ".",
}
_SHOWN = 5  # at most this many characters named in one warning
_SURROGATES = ("\ud800", "\udfff")  # a lone one: a %uD83D sent without its %uDExx


def encoding(text: str) -> str:
    """``"ascii"`` for pure ASCII text (140 a message), else ``"ucs2"`` (70 a message)."""
    return "ascii" if text.isascii() else "ucs2"


def split_parts(text: str) -> list[str]:
    """The parts a handset shows ``text`` in: one, or parts of at most 67 UTF-16 units.

    One part when the text fits one message (70 UTF-16 units, or 140 of pure ASCII);
    else cut greedily: each part takes characters while they fit in 67 units, and a
    character beyond U+FFFF (2 units) that does not fit goes whole to the next part, as
    a handset's concatenated message carries it. So each part holds at most 67 units,
    and there may be more parts than the bill's ``segments`` (see :func:`warnings`).

    >>> [len(p) for p in split_parts("你" * 140)], split_parts("短信【示例】")
    ([67, 67, 6], ['短信【示例】'])
    >>> [len(p.encode("utf-16-le")) // 2 for p in split_parts("你" * 66 + "😀" + "你" * 66)]
    [66, 67, 1]
    """
    if text.isascii():
        if len(text) <= _SHORT_ASCII:
            return [text]
        return [text[i : i + _PER_PART] for i in range(0, len(text), _PER_PART)]
    if _units(text) <= _SHORT:
        return [text]
    parts: list[str] = []
    start = 0
    units = 0
    for index, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > _PER_PART:
            parts.append(text[start:index])
            start, units = index, 0
        units += width
    parts.append(text[start:])
    return parts


def _units(text: str) -> int:
    # A lone surrogate (a %uD800 with no partner) is one unit, as in a .NET string.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def signature_span(text: str) -> tuple[int, int] | None:
    """Where the signature is: the 【…】 ending the text, else the one starting it, else
    the first one anywhere (a misplaced signature); None when there is none."""
    found = list(_SIGNATURE.finditer(text))
    if not found:
        return None
    stripped_end = len(text.rstrip())
    for match in reversed(found):
        if match.end() == stripped_end:
            return match.span()
    lead = len(text) - len(text.lstrip())
    for match in found:
        if match.start() == lead:
            return match.span()
    return found[0].span()


def signature(text: str) -> str:
    """The signature with its brackets (``"【示例】"``), or ``""`` when the text has none.

    >>> signature("验证码 1234【示例】"), signature("【示例】您好"), signature("hi")
    ('【示例】', '【示例】', '')
    """
    span = signature_span(text)
    return text[span[0] : span[1]] if span else ""


def codes(text: str) -> tuple[str, ...]:
    """The verification codes in ``text``: each run of 4 to 8 ASCII digits that is not
    part of a longer run of digits, in text order.

    >>> codes("验证码 123456，5分钟内有效；订单 20240101123 已发货, PIN 0042【示例】")
    ('123456', '0042')
    """
    return tuple(_CODE.findall(text))


def _named(chars: list[str]) -> str:
    shown = ", ".join(f"{c} (U+{ord(c):04X})" for c in chars[:_SHOWN])
    more = len(chars) - _SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _distinct(text: str) -> list[str]:
    return list(dict.fromkeys(text))


def _signature_warnings(text: str) -> list[str]:
    found = _SIGNATURE.findall(text)
    if not found:
        loose = _ASCII_SIGNATURE.search(text)
        if loose:
            written = (loose.group(1) or loose.group(2)).strip()
            return [
                f"no 【signature】: {written} is written with other brackets; the gateway "
                "and the carriers look for 【…】 at the start or the end"
            ]
        return [
            "no 【signature】: the gateway and the carriers expect one at the start or the "
            "end; the message may be refused or dropped"
        ]
    warned = []
    if len(found) > 1:
        warned.append(
            f"{len(found)} 【…】 ({', '.join(found[:_SHOWN])}): which one is the signature "
            "is the carrier's guess; the others read as text"
        )
    span = signature_span(text) or (0, 0)  # never None: the text has a 【…】
    at_end = span[1] == len(text.rstrip())
    at_start = span[0] == len(text) - len(text.lstrip())
    if not (at_end or at_start):
        warned.append(
            f"the signature {text[span[0] : span[1]]} is neither at the start nor at the "
            "end: carriers may not read it as the signature"
        )
    return warned


def _outside_gbk(text: str) -> list[str]:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        pass
    else:
        return []
    bad = []
    for char in _distinct(text):
        if ord(char) > 0xFFFF or char in _INVISIBLE or _SURROGATES[0] <= char <= _SURROGATES[1]:
            continue  # said by the emoji, invisible characters' or lone surrogates' warning
        try:
            char.encode("gbk")
        except UnicodeEncodeError:
            bad.append(char)
    return bad


def warnings(text: str, *, utf16: bool = True) -> list[str]:
    """What a careful sender wants to hear about ``text``, in words; ``[]`` when nothing.

    In this order: a missing, ASCII-bracketed, repeated or misplaced 【signature】;
    characters outside GBK (older handsets show boxes or ``?``); emoji and other
    characters beyond U+FFFF (2 characters each, and outside GBK); lone surrogates; a
    handset showing more parts than the bill counts (:func:`split_parts`); full-width letters
    and digits (a code typed in them is no code to an app reading digits); look-alike
    punctuation that alone keeps a text from being ASCII, when it costs messages (billed
    70, not 140, a message); invisible characters (they count, and may show as boxes).

    >>> warnings("验证码 1234【示例】")
    []
    >>> warnings("Your code is １２３４【Shop】")[0].startswith("full-width")
    True
    """
    found = _signature_warnings(text)
    chars = _distinct(text)
    if text.isascii():
        return found + _hidden(chars)
    outside = _outside_gbk(text)
    if outside:
        found.append(f"outside GBK: {_named(outside)}: older handsets show them as boxes or '?'")
    astral = [c for c in chars if ord(c) > 0xFFFF]
    if astral and utf16:
        found.append(
            f"{_named(astral)}: beyond U+FFFF, each counts as 2 characters (UTF-16) and is "
            "outside GBK"
        )
    elif astral:
        found.append(f"{_named(astral)}: beyond U+FFFF, outside GBK")
    lone = [c for c in chars if _SURROGATES[0] <= c <= _SURROGATES[1]]
    if lone:
        named = ", ".join(f"U+{ord(c):04X}" for c in lone[:_SHOWN])
        found.append(
            f"lone surrogates: {named}: half of a UTF-16 pair (a %uD83D sent without its "
            "%uDExx), not a character: handsets show a box or nothing"
        )
    found += _parts_warning(text, utf16)
    # Full-width letters and digits only: full-width punctuation (，：！) is plain Chinese.
    wide = [c for c in chars if "\uff10" <= c <= "\uff5a" and c.isalnum()]
    if wide:
        digits = any("\uff10" <= c <= "\uff19" for c in wide)
        tail = ": a code written in them is not digits to an app that reads codes" if digits else ""
        found.append(f"full-width letters or digits: {_named(wide)}{tail}")
    found += _costly_lookalikes(text, chars, utf16)
    return found + _hidden(chars)


def _parts_warning(text: str, utf16: bool) -> list[str]:
    shown, billed = len(split_parts(text)), segments(text, utf16=utf16)
    if shown == billed:
        return []
    why = (
        "an emoji that would straddle a 67-unit cut goes whole to the next part"
        if utf16
        else "the gateway counts characters, a handset UTF-16 units (an emoji is 2)"
    )
    return [f"the handset shows {shown} parts, billed as {billed}: {why}"]


def _costly_lookalikes(text: str, chars: list[str], utf16: bool) -> list[str]:
    others = [c for c in chars if not c.isascii()]
    loose = [c for c in others if c in _LOOKALIKES or "\uff01" <= c <= "\uff5e"]
    if not loose or len(loose) < len(others):
        return []
    plain = "".join(
        c if c.isascii() else (_LOOKALIKES.get(c) or unicodedata.normalize("NFKC", c)) for c in text
    )
    billed, ascii_billed = segments(text, utf16=utf16), segments(plain, utf16=utf16)
    if ascii_billed >= billed:
        return []
    return [
        f"only {_named(loose)} keep this text from being ASCII: billed at 70 a message, "
        f"not 140 ({billed} messages; {ascii_billed} in ASCII)"
    ]


def _hidden(chars: list[str]) -> list[str]:
    hidden = [
        c
        for c in chars
        if c in _INVISIBLE or (unicodedata.category(c) == "Cc" and c not in "\r\n\t")
    ]
    if not hidden:
        return []
    names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'control')}" for c in hidden[:_SHOWN])
    return [f"invisible characters: {names}: they count, and may show as boxes"]
