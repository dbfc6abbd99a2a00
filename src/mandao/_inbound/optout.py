"""Unsubscribe replies (退订): whether a reply's whole text is an opt-out keyword.

PRC rules (工信部《通信短信息服务管理规定》) require a commercial SMS to offer a way to refuse
and sending to stop once a user refuses. Customers of the gateway write the way into the
text themselves ("回复TD退订"), and nothing shows that the gateway filters repliers, so
the client reads replies and keeps its own list. The defaults are the keywords Chinese
senders advertise: Huawei's ``R``, Alibaba's ``T``, the common ``TD``, ``N``, ``0000``,
``退订``, ``取消``, ``拒收`` (and ``取消订阅``, ``退订短信``, ``拒收短信``). ``退`` alone is
left out: it is also the first word of "退款" questions cut short; add it with
``OptOut(DEFAULT_KEYWORDS | {"退"})``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

__all__ = ["DEFAULT_KEYWORDS", "OptOut", "normalize_reply"]

DEFAULT_KEYWORDS = frozenset({"TD", "T", "N", "R", "0000", "退订", "取消", "拒收",
                              "取消订阅", "退订短信", "拒收短信"})  # fmt: skip
#: Stripped from the end of a reply after NFKC (which makes full-width ！，． and spaces
#: plain), with whitespace between them.
_TRAILING = "。.!,、~～?？;；:：… \t\r\n\v\f"
#: Quotes and brackets a reply may put around the keyword it was told to send
#: ("回复“TD”退订", "【退订】").
_AROUND = "\"'“”‘’「」『』【】[]()（）《》<>〈〉"
#: What a reply may start with, copied from the text that asked for it ("回复TD退订").
_ASKED = ("回复", "回")


def normalize_reply(text: str) -> str:
    """A reply as keywords are compared: NFKC (full width to half), case-folded, without
    invisible format characters (a zero-width space, a byte-order mark), whitespace around
    it, quotes and brackets around it, punctuation after it, or a leading 回复 (copied
    from "回复TD退订").

    >>> normalize_reply(" ＴＤ！ "), normalize_reply("退订。"), normalize_reply("Td.")
    ('td', '退订', 'td')
    >>> normalize_reply("\ufeff“TD”\u200b"), normalize_reply("【退订】"), normalize_reply("回复TD")
    ('td', '退订', 'td')
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    folded = folded.strip().rstrip(_TRAILING).strip(_AROUND + " ").rstrip(_TRAILING)
    for asked in _ASKED:
        if folded.startswith(asked) and len(folded) > len(asked):
            return folded[len(asked) :].strip().strip(_AROUND + " ")
    return folded


@dataclass(frozen=True)
class OptOut:
    """The opt-out keywords: a reply is an unsubscribe when its whole text is one of them.

    Keywords are normalised as replies are (see :func:`normalize_reply`), so ``"td"`` and
    ``"ＴＤ"`` name the same keyword. A keyword inside a longer reply is not a match: "TDK"
    and "我不想退订" are not unsubscribes; a reply of keywords alone is ("TD退订").

    >>> optout = OptOut()
    >>> [optout.matches(t) for t in ["TD", "td", "ＴＤ", "退订。", "TDK", "不要退订"]]
    [True, True, True, True, False, False]
    >>> [optout.matches(t) for t in ["回复TD退订", "TD 退订", "“TD”", "取消订单", "TNT"]]
    [True, True, True, False, False]
    >>> OptOut(frozenset({"STOP"})).matches("stop!")
    True
    >>> OptOut(joined=False).matches("TD退订")
    False
    """

    keywords: frozenset[str] = DEFAULT_KEYWORDS
    #: A reply made of keywords alone matches too (False: only a reply that is one).
    joined: bool = True
    _normalised: frozenset[str] = field(init=False, repr=False, compare=False)
    #: The keywords a reply may be made of, end to end: those of two characters or more.
    _parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        normalised = frozenset(normalize_reply(k) for k in self.keywords) - {""}
        object.__setattr__(self, "_normalised", normalised)
        object.__setattr__(self, "_parts", tuple(k for k in normalised if len(k) >= 2))

    def matches(self, text: str) -> bool:
        """True when the whole reply, normalised, is one of the keywords, or is made of
        keywords of two characters or more alone ("TD退订", "退订 TD": the asking text's
        words sent back whole; single letters are no such part: "TNT" is no opt-out)."""
        reply = normalize_reply(text)
        if reply in self._normalised:
            return True
        if not self.joined:
            return False
        return bool(self._parts) and _made_of("".join(reply.split()), self._parts)


def _made_of(text: str, parts: tuple[str, ...]) -> bool:
    """Whether ``text`` is one or more of ``parts``, end to end."""
    ends = {0}
    for at in range(len(text)):
        if at in ends:
            ends.update(at + len(p) for p in parts if text.startswith(p, at))
    return len(text) in ends and len(text) > 0
