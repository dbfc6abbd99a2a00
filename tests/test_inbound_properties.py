"""Properties of the inbound decoders: no input makes them raise, and none loses a line."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote_to_bytes

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mandao._inbound.dates import CHINA, china_time
from mandao._inbound.push import decode_push
from mandao._inbound.replies import decode_replies, percent_bytes
from mandao._inbound.reports import TolerantReportParser

_CODE = re.compile(r"\s*-[0-9]+\s*")
_ANY = st.text(st.characters(blacklist_categories=()), max_size=200)  # lone surrogates too
#: Text made of the pieces lines are made of, so that many inputs come close to valid.
_PIECE = st.sampled_from(
    [",", ",", ",", ";", "\r\n", "\n", "\r", " ", "%", "%BA%C3", "%FF", "+", "-", ":", "1",
     "13800138000", "8613800138000", "DELIVRD", "DB:0103", "0", "2012-11-29 11:05:31",
     "2011-6-7 7:42:33", "20240301093000", "123456789012345678", "好的", "\ufeff", "\t"]
)  # fmt: skip
_NEAR = st.lists(_PIECE, max_size=40).map("".join)
SETTINGS = settings(max_examples=300, deadline=None)


def _lines(raw: str) -> list[str]:
    """The lines a reply result holds: CRLF or LF ends one; blank lines hold nothing."""
    return [line for line in raw.replace("\r\n", "\n").split("\n") if line.strip()]


def _records(raw: str) -> list[str]:
    return [r for r in re.split(r"\r\n|\n|;", raw) if r.strip()]


@SETTINGS
@given(raw=st.one_of(_ANY, _NEAR))
@example(raw="1")
@example(raw="-2")
@example(raw="\ufeff95153359,157589222222,15251664207,好的,2012-11-29 11:05:31")
def test_decode_replies_never_raises_and_keeps_every_line(raw: str) -> None:
    """Any text: a ValueError only for a negative code; else each line is one item or one
    Unreadable, in order (the whole result `1` or blank is none)."""
    for encoding in ("gb2312", "utf-8"):
        try:
            decoded = decode_replies(raw, encoding=encoding, service_number="1575")
        except ValueError:
            assert _CODE.fullmatch(raw)
            continue
        kept = sorted([*(r.raw for r in decoded.items), *(u.raw for u in decoded.unreadable)])
        expected = [] if raw.strip() in ("", "1") else _lines(raw.removeprefix("\ufeff"))
        assert kept == sorted(expected)


@SETTINGS
@given(raw=st.one_of(_ANY, _NEAR))
@example(raw="9" * 5000 + ",13800138000,DELIVRD")  # past int()'s 4300-digit limit
@example(raw="-16")
def test_the_report_parser_never_raises_and_keeps_every_record(raw: str) -> None:
    """Any text: a ValueError only for a negative code; else each record is one Report or
    one Unreadable (the whole result `1`, `0` or blank is none)."""
    try:
        decoded = TolerantReportParser()(raw)
    except ValueError:
        assert _CODE.fullmatch(raw)
        return
    kept = [*(r.raw for r in decoded.items), *(u.raw for u in decoded.unreadable)]
    expected = [] if raw.strip() in ("", "0", "1") else _records(raw.removeprefix("\ufeff"))
    assert sorted(kept) == sorted(expected)


@SETTINGS
@given(body=st.one_of(_ANY, _NEAR))
def test_decode_push_never_raises_and_keeps_every_record(body: str) -> None:
    """Any body: each `;`-separated record that is not blank is one Reply or one Unreadable."""
    try:
        decoded = decode_push(body, limit=None)
    except ValueError:
        assert _CODE.fullmatch(body)
        return
    assert len(decoded.items) + len(decoded.unreadable) == len(
        [r for r in body.removeprefix("args=").split(";") if r.strip()]
    )


@settings(max_examples=500, deadline=None)
@given(text=st.text(st.sampled_from("%=0123456789abcdefABCDEFgG+ \r\n_x"), max_size=30))
@example(text="%%41")
@example(text="50%")
@example(text="%4")
@example(text="a=%41")
def test_percent_bytes_is_unquote_to_bytes(text: str) -> None:
    """The C fast path of percent-decoding gives exactly urllib's bytes, for any ASCII text."""
    assert percent_bytes(text) == unquote_to_bytes(text)


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(st.sampled_from("0123456789-: T/+Z٣１"), min_size=17, max_size=21),
    stamp=st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)),
)
def test_the_fast_date_path_agrees_with_the_general_one(text: str, stamp: datetime) -> None:
    """Padded 19-character stamps take a fast path; it reads what the general path reads."""
    expected = stamp.replace(microsecond=0, tzinfo=CHINA)
    padded = f"{stamp:%Y-%m-%d %H:%M:%S}" if stamp.year >= 1000 else None
    if padded is not None:
        dotnet = f"{stamp.year}-{stamp.month}-{stamp.day} {stamp.hour}:{stamp:%M:%S}"
        assert china_time(padded) == expected
        assert china_time(dotnet) == expected
        assert china_time(padded.replace("-", "/")) == expected  # the general path
    fast = china_time(text)
    general = china_time(text + " ")  # a trailing space skips both fast paths
    assert fast == general
    short = text.replace("-0", "-", 2).replace(" 0", " ", 1)  # .NET's unpadded form
    assert china_time(short) == china_time(short + " ")
