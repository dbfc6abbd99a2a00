"""Replies (MO, 上行) from subscribers: the ``mo``, ``mo2`` and ``RECSMS_UTF8`` line format.

Each line is ``moID,特服号+ext,mobile,content,time``; several are joined by CRLF (LF is
accepted too). The content is URL-encoded GB2312 (``mo``, ``mo2``, pushes) or UTF-8
(``RECSMS_UTF8``), decoded the way the vendor's own demo does (Java's ``URLDecoder``:
``+`` is a space, ``%2B`` a plus). A line whose content is not URL-encoded is read as
it stands. The first three commas and the **last** one separate the fields, so a comma
inside a text survives even when the gateway leaves it unencoded (WebEIO's parser does
the same).

Text that is not valid GB2312 is tried as GB18030 (a superset of GBK, itself a superset
of GB2312: handsets send characters GB2312 lacks) before the line is declared
:class:`~.decoded.Unreadable`. Nothing is dropped: every line that is not blank gives
exactly one :class:`Reply` or one ``Unreadable``.
"""

from __future__ import annotations

import codecs
import re
from binascii import a2b_qp
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, unquote_to_bytes

from .dates import any_time
from .decoded import Decoded, Unreadable, is_empty, refuse_code

__all__ = ["Reply", "decode_line", "decode_replies", "percent_bytes", "text_decoder"]

#: ``mo`` answers ``1`` when nothing waits.
EMPTY = frozenset({"", "1"})
#: A number as the gateway may give it after +86 is gone: digits, ``*`` where a copy is
#: masked (the vendor's own push example: ``138****065``), or a foreign ``+`` number.
_PHONE = re.compile(r"\+?[0-9*]{3,20}")
#: Encodings whose text is retried as GB18030 when it does not decode.
_GB = frozenset({"gb2312", "gbk"})


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply (MO) from a subscriber, as the gateway gave it.

    Attributes:
        mobile: the subscriber's number, spaces and a ``+86``/``0086``/``86`` prefix
            removed; otherwise as sent (a masked ``138****065`` stays so).
        text: the decoded content.
        receiver: the number the reply was sent to, service number plus extension
            (field 2, ``recvtel``), as received.
        ext: the part of ``receiver`` after the account's service number; ``""`` when
            the reply came in on the bare service number, when the service number was
            not given, or when ``receiver`` does not start with it.
        received_at: when the subscriber sent it, China time; None when the time field
            could not be read (it stays in ``raw``).
        mo_id: field 1, None when empty. Pushes always carry ``123456``: never a key.
        raw: the line as received.

    >>> reply = decode_replies("95153359,157589222222,15251664207,%BA%C3%B5%C4,"
    ...                        "2012-11-29 11:05:31", service_number="157589").items[0]
    >>> reply.mobile, reply.text, reply.ext, reply.received_at.isoformat()
    ('15251664207', '好的', '222222', '2012-11-29T11:05:31+08:00')
    """

    mobile: str
    text: str
    receiver: str
    ext: str
    received_at: datetime | None
    mo_id: str | None
    raw: str

    def key(self) -> tuple[str, str, str, str]:
        """The de-duplication key: mobile, text, receiver and the time (ISO, else raw).

        The moID is no key: pushes give every reply the same one.

        >>> decode_replies("1,106,13800138000,TD,2024-1-2 3:04:05").items[0].key()
        ('13800138000', 'TD', '106', '2024-01-02T03:04:05+08:00')
        """
        if self.received_at is not None:
            when = self.received_at.isoformat()
        else:
            when = self.raw.rpartition(",")[2].strip()
        return (self.mobile, self.text, self.receiver, when)


def text_decoder(encoding: str) -> Callable[[str], str]:
    """A function from URL-encoded content to its text, in ``encoding`` (GB2312 falls back
    to GB18030). It raises UnicodeDecodeError when the bytes are not text.

    Raises:
        LookupError: ``encoding`` is not a codec Python knows.

    >>> text_decoder("gb2312")("%CD%CB%B6%A9+TD")
    '退订 TD'
    >>> text_decoder("utf-8")("%E9%80%80%E8%AE%A2")
    '退订'
    """
    name = codecs.lookup(encoding).name
    fallback = "gb18030" if name in _GB else None

    def decode(content: str) -> str:
        if "+" in content:
            content = content.replace("+", " ")
        elif "%" not in content:
            return content
        if content.isascii():
            data = percent_bytes(content)
            try:
                return data.decode(name)
            except UnicodeDecodeError:
                if fallback is None:
                    raise
                return data.decode(fallback)
        try:  # encoded parts beside raw text
            return unquote(content, name, "strict")
        except UnicodeDecodeError:
            if fallback is None:
                raise
            return unquote(content, fallback, "strict")

    return decode


def percent_bytes(content: str) -> bytes:
    """The bytes of ASCII text with ``%XX`` escapes: ``urllib.parse.unquote_to_bytes``, faster.

    binascii's quoted-printable decoder is C and reads ``=XX`` as urllib reads ``%XX``.
    It differs where ``=`` means more (a line break after it) or where an escape is not
    two hex digits (it keeps ``=``, or drops one at the end): a text holding ``=`` or a
    line break goes to urllib, and so does one whose every ``%`` did not shrink by two.
    About four times quicker than urllib, which is most of a reply's decoding.

    >>> percent_bytes("%BA%C3x%b5+"), percent_bytes("50%"), percent_bytes("a=%3D")
    (b'\\xba\\xc3x\\xb5+', b'50%', b'a==')
    """
    if "=" not in content and "\n" not in content and "\r" not in content:
        data = a2b_qp(content.replace("%", "="))
        if len(data) == len(content) - 2 * content.count("%"):
            return data
    return unquote_to_bytes(content)


def decode_line(
    line: str, decode: Callable[[str], str], service_number: str | None
) -> Reply | Unreadable:
    """One ``moID,receiver,mobile,content,time`` line as a Reply, or Unreadable with why."""
    parts = line.split(",", 3)
    if len(parts) == 4:
        content, comma, when = parts[3].rpartition(",")
        if comma:
            mobile = parts[2]
            if not (len(mobile) == 11 and mobile.isdigit() and mobile.isascii()):
                normal = _mobile(mobile)
                if normal is None:
                    return Unreadable(line, f"the mobile field {mobile!r} is not a number")
                mobile = normal
            try:
                text = decode(content)
            except UnicodeDecodeError as error:
                also = " (nor GB2312 or GBK, its subsets)" if error.encoding == "gb18030" else ""
                return Unreadable(
                    line, f"the URL-decoded content is not {error.encoding} text{also}"
                )
            receiver = parts[1].strip()
            if service_number and receiver.startswith(service_number):
                ext = receiver[len(service_number) :]
            else:
                ext = ""
            return Reply(
                mobile, text, receiver, ext, any_time(when), parts[0].strip() or None, line
            )
    found = line.count(",") + 1
    return Unreadable(
        line, f"expected 5 comma-separated fields (moID, receiver, mobile, content, time), "
        f"found {found}"
    )  # fmt: skip


def _mobile(field: str) -> str | None:
    number = "".join(field.split())
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    else:
        if len(number) == 13 and number.startswith("86"):
            number = number[2:]
    return number if number.isascii() and _PHONE.fullmatch(number) else None


def decode_replies(
    raw: str, *, encoding: str = "gb2312", service_number: str | None = None
) -> Decoded[Reply]:
    """Decode the text of an ``mo`` or ``mo2`` result (or RECSMS_UTF8's lines) into replies.

    ``1`` or an empty result is no reply. A negative result code is the caller's to decode
    first (``mandao._codes.decode`` turns it into its exception): this function refuses one.

    Args:
        raw: the result text, lines joined by CRLF or LF; a trailing line ending is fine.
        encoding: of the URL-encoded content: ``"gb2312"`` (``mo``, ``mo2``; text that is
            not GB2312 is retried as GB18030) or ``"utf-8"`` (``RECSMS_UTF8``, whose
            records arrive as ``,recvtel,sender,content,recdate`` with an empty moID).
        service_number: the account's service number (``GetCode``); a reply's ``ext`` is
            what follows it in the receiving number.

    Returns:
        The replies in order, and each line that could not be read (kept whole, with the
        reason): every line that is not blank is exactly one of the two.

    Raises:
        ValueError: ``raw`` is a negative result code such as ``-2``.
        LookupError: ``encoding`` is not a codec.

    >>> decoded = decode_replies("1,10657,13800138000,TD,2024-3-1 9:30:00\\r\\nnot a line\\r\\n")
    >>> [r.text for r in decoded.items], [u.raw for u in decoded.unreadable]
    (['TD'], ['not a line'])
    >>> decode_replies("1")
    Decoded(items=(), unreadable=())
    """
    refuse_code(raw, "decode_replies")
    decode = text_decoder(encoding)
    if is_empty(raw, EMPTY):
        return Decoded((), ())
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n")
    items: list[Reply] = []
    unreadable: list[Unreadable] = []
    keep, skip = items.append, unreadable.append
    for line in raw.split("\n"):
        if not line:
            continue
        got = decode_line(line, decode, service_number)
        if isinstance(got, Reply):
            keep(got)
        elif not line.isspace():
            skip(got)
    return Decoded(tuple(items), tuple(unreadable))
