"""Unsubscribe replies (退订): whether a reply's whole text is an opt-out keyword.

PRC rules (工信部《通信短信息服务管理规定》) require a commercial SMS to offer a way to refuse
and sending to stop once a user refuses. Customers of the gateway write the way into the
text themselves ("回复TD退订"), and nothing shows that the gateway filters repliers, so
the client reads replies and keeps its own list. The defaults are the keywords Chinese
senders advertise: Huawei's ``R``, Alibaba's ``T``, the common ``TD``, ``N``, ``0000``,
``退订``, ``取消``, ``拒收``. ``退`` alone is left out: it is also the first word of
"退款" questions cut short; add it with ``OptOut(DEFAULT_KEYWORDS | {"退"})``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

__all__ = ["DEFAULT_KEYWORDS", "OptOut", "normalize_reply"]

DEFAULT_KEYWORDS = frozenset({"TD", "T", "N", "R", "0000", "退订", "取消", "拒收"})
#: Stripped from the end of a reply after NFKC (which makes full-width ！，． and spaces
#: plain), with whitespace between them.
_TRAILING = "。.!,、~～?？;；:：… \t\r\n\v\f"


def normalize_reply(text: str) -> str:
    """A reply as keywords are compared: NFKC (full width to half), case-folded, with
    whitespace around it and punctuation after it removed.

    >>> normalize_reply(" ＴＤ！ "), normalize_reply("退订。"), normalize_reply("Td.")
    ('td', '退订', 'td')
    """
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    return folded.rstrip(_TRAILING)


@dataclass(frozen=True)
class OptOut:
    """The opt-out keywords: a reply is an unsubscribe when its whole text is one of them.

    Keywords are normalised as replies are (see :func:`normalize_reply`), so ``"td"`` and
    ``"ＴＤ"`` name the same keyword. A keyword inside a longer reply is not a match: "TDK"
    and "我不想退订" are not unsubscribes.

    >>> optout = OptOut()
    >>> [optout.matches(t) for t in ["TD", "td", "ＴＤ", "退订。", "TDK", "不要退订"]]
    [True, True, True, True, False, False]
    >>> OptOut(frozenset({"STOP"})).matches("stop!")
    True
    """

    keywords: frozenset[str] = DEFAULT_KEYWORDS
    _normalised: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        normalised = frozenset(normalize_reply(k) for k in self.keywords) - {""}
        object.__setattr__(self, "_normalised", normalised)

    def matches(self, text: str) -> bool:
        """True when the whole reply, normalised, is one of the keywords."""
        return normalize_reply(text) in self._normalised
