"""Replies (MO, 上行) a test injects, and the shapes the gateway hands them out in.

``InjectedReply`` is one reply; ``Inbox`` keeps every reply of every serial (under the
gateway state's lock) with what each read operation needs: ``mo`` and ``RECSMS_UTF8``
hand each reply out once (a destructive read, shared by the two), ``mo2`` is a cursor on
the reply id that reads without consuming. The line and element formats follow public
clients of the live gateway; each choice the evidence leaves open is stated where it is
made and listed in docs/sandbox.md.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote_plus

from ._calls import MOBody

__all__ = [
    "CHINA",
    "PUSH_MO_ID",
    "Inbox",
    "InjectedReply",
    "check_reply",
    "check_reply_mobile",
    "check_reply_text",
    "china_time",
    "dotnet_time",
    "padded_time",
    "url_gb2312",
    "url_utf8",
]

#: The gateway's clock is China time (UTC+8, no daylight saving), wherever the sandbox runs.
CHINA = timezone(timedelta(hours=8), "CST")
#: The moID every pushed record carries (a fixed value, per the vendor: not a key).
PUSH_MO_ID = "123456"
_FIRST_ID = 10_000_001  # eight digits, as the public samples; mo2's maxID is an Int32


def check_reply(mobile: object, text: object) -> None:
    """ValueError unless ``mobile`` is a plausible number and ``text`` a non-empty string.

    A plausible number is 5 to 20 ASCII digits with an optional leading ``+``: anything
    else would be stored, then reported unreadable by ``Client.fetch_replies()``.

    >>> check_reply("abc", "TD")
    Traceback (most recent call last):
    ...
    ValueError: not a mobile number: 'abc' (5 to 20 ASCII digits, an optional leading +)
    """
    check_reply_mobile(mobile)
    check_reply_text(text)


def check_reply_mobile(mobile: object) -> None:
    """ValueError unless ``mobile`` is 5 to 20 ASCII digits with an optional leading ``+``."""
    digits = mobile[1:] if isinstance(mobile, str) and mobile.startswith("+") else mobile
    if not (isinstance(digits, str) and digits.isascii() and digits.isdigit()) or not (
        5 <= len(digits) <= 20
    ):
        shown = "none" if mobile is None else repr(mobile)
        raise ValueError(
            f"not a mobile number: {shown} (5 to 20 ASCII digits, an optional leading +)"
        )


def check_reply_text(text: object) -> None:
    """ValueError unless ``text`` is a non-empty string (missing and empty read alike)."""
    if not isinstance(text, str) or not text:
        raise ValueError("a reply needs a text (a non-empty string)")


def china_time(at: datetime | float) -> datetime:
    """``at`` (a timestamp, an aware datetime, or a naive one read as China time) in China time."""
    if isinstance(at, int | float):
        return datetime.fromtimestamp(at, CHINA)
    return at.replace(tzinfo=CHINA) if at.tzinfo is None else at.astimezone(CHINA)


def padded_time(at: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss``: the ``mo`` line's (and the push's) time format."""
    return at.strftime("%Y-%m-%d %H:%M:%S")


def dotnet_time(at: datetime) -> str:
    """``yyyy-M-d H:mm:ss`` (``2011-6-7 17:42:33``): RECSMS*'s ``recdate``, not zero-padded."""
    return f"{at.year}-{at.month}-{at.day} {at.hour}:{at.minute:02d}:{at.second:02d}"


def url_gb2312(text: str) -> str:
    """``text`` URL-encoded as GB2312 (GBK in practice; what it cannot encode becomes ``?``).

    Upper-case ``%XX``, a space as ``+``, as the one captured reply (UTF-8) shows.

    >>> url_gb2312("好的, ok")
    '%BA%C3%B5%C4%2C+ok'
    """
    return quote_plus(text.encode("gbk", errors="replace"), safe="")


def url_utf8(text: str) -> str:
    """``text`` URL-encoded as UTF-8 (``RECSMS_UTF8``'s content).

    >>> url_utf8("爸")
    '%E7%88%B8'
    """
    return quote_plus(text.encode("utf-8"), safe="")


@dataclass(frozen=True)
class InjectedReply:
    """One reply a handset sent to the account's service number (and extension).

    ``id`` is the gateway's moID (increasing); ``received`` is China time; ``recvtel`` is
    the receiving number, ``service_number`` + ``ext``.
    """

    id: int
    sn: str
    mobile: str
    text: str
    service_number: str
    ext: str
    received: datetime

    @property
    def recvtel(self) -> str:
        """The number the reply was sent to: the 特服号 followed by the extension."""
        return self.service_number + self.ext

    def mo_line(self, mo_id: str | None = None) -> str:
        """``moID,特服号+ext,mobile,content,time`` with GB2312 URL-encoded content."""
        fields = (
            str(self.id) if mo_id is None else mo_id,
            self.recvtel,
            self.mobile,
            url_gb2312(self.text),
            padded_time(self.received),
        )
        return ",".join(fields)

    def mo_body(self, total: int, this: int) -> MOBody:
        """This reply as an element of ``RECSMS_UTF8``'s ``ArrayOfMOBody``."""
        return MOBody(
            total_num=str(total),
            this_num=str(this),
            recvtel=self.recvtel,
            sender=self.mobile,
            content=url_utf8(self.text),
            recdate=dotnet_time(self.received),
        )


class Inbox:
    """Every injected reply, per serial; not thread-safe (the gateway state's lock guards it)."""

    def __init__(self) -> None:
        self._ids = itertools.count(_FIRST_ID)
        self._replies: dict[str, list[InjectedReply]] = {}
        self._unread: dict[str, list[InjectedReply]] = {}

    def add(
        self, sn: str, mobile: str, text: str, service_number: str, ext: str, received: datetime
    ) -> InjectedReply:
        """Store a new reply for ``sn`` and return it (with its moID)."""
        reply = InjectedReply(next(self._ids), sn, mobile, text, service_number, ext, received)
        self._replies.setdefault(sn, []).append(reply)
        self._unread.setdefault(sn, []).append(reply)
        return reply

    def take_unread(self, sn: str) -> list[InjectedReply]:
        """The replies of ``sn`` not handed out yet, oldest first; they are handed out now."""
        return self._unread.pop(sn, [])

    def after(self, sn: str, max_id: int) -> list[InjectedReply]:
        """The replies of ``sn`` with an id above ``max_id`` (read or not), oldest first."""
        return [r for r in self._replies.get(sn, []) if r.id > max_id]

    def all(self, sn: str | None = None) -> list[InjectedReply]:
        """Every reply (of ``sn``, or of every serial), oldest first."""
        if sn is not None:
            return list(self._replies.get(sn, []))
        return sorted((r for rs in self._replies.values() for r in rs), key=lambda r: r.id)

    def unread(self, sn: str) -> int:
        """How many replies of ``sn`` the destructive reads have not handed out yet."""
        return len(self._unread.get(sn, []))
