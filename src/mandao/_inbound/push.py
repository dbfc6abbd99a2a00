"""The body of an MO push: the replies the gateway POSTs to a registered URL.

The vendor's description (a Mandao-authored post, Medium confidence): the URL holds
``args=%XXX%``; the gateway POSTs ``moID,特服号,手机号,内容,时间`` records joined by ``;``,
at most 1000 a push, content URL-encoded GB2312, moID always ``123456``; the receiver
answers ``0``. Nothing is signed, and whether ``args`` arrives as a form field or in the
query is not known: either way, hand this module the value **before** any form decoding
(a form parser would read the GB2312 bytes as UTF-8 and spoil them).

The vendor's example masks its mobiles (``138****065``); such a mobile is kept as given,
and a push that really carried one could not be matched to a number or suppressed.
"""

from __future__ import annotations

from .decoded import Decoded, Unreadable, refuse_code
from .replies import Reply, decode_line, text_decoder

__all__ = ["MAX_RECORDS", "decode_push"]

#: The most records the gateway says it puts in one push.
MAX_RECORDS = 1000


def decode_push(
    body: str, *, service_number: str | None = None, limit: int | None = MAX_RECORDS
) -> Decoded[Reply]:
    """Decode a push's ``args`` value into replies (GB2312 content, GB18030 fallback).

    Args:
        body: the ``args`` value as it arrived, not form-decoded; a leading ``args=`` is
            accepted and removed.
        service_number: the account's service number; a reply's ``ext`` follows it.
        limit: records past this many (the gateway promises at most 1000) are not
            decoded but kept as Unreadable, so an oversized or mis-split body is seen
            by a person instead of filling the suppression list; None decodes them all.

    Returns:
        One Reply or one Unreadable per record that is not blank, in order.

    Raises:
        ValueError: ``body`` is a negative result code (a gateway error, not a push).

    >>> push = decode_push("123456,62891,138****065,ceshi01,2009-10-19 15:51:05;"
    ...                    "123456,62891,139****404,test02,2009-10-19 15:51:17")
    >>> [(r.mobile, r.text, r.mo_id) for r in push.items]
    [('138****065', 'ceshi01', '123456'), ('139****404', 'test02', '123456')]
    """
    refuse_code(body, "decode_push")
    if body.startswith("args="):
        body = body[5:]
    decode = text_decoder("gb2312")
    items: list[Reply] = []
    unreadable: list[Unreadable] = []
    count = 0
    for record in body.split(";"):
        if not record or record.isspace():
            continue
        record = record.strip("\r\n")
        count += 1
        if limit is not None and count > limit:
            unreadable.append(
                Unreadable(record, f"record {count} of a push; the gateway sends at most {limit}")
            )
            continue
        got = decode_line(record, decode, service_number)
        if isinstance(got, Reply):
            items.append(got)
        else:
            unreadable.append(got)
    return Decoded(tuple(items), tuple(unreadable))
