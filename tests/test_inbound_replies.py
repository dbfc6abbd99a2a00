"""Replies (MO): the mo/mo2/RECSMS_UTF8 line format and the MO push body, decoded."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import pytest

from mandao._inbound.dates import CHINA
from mandao._inbound.decoded import Unreadable
from mandao._inbound.push import MAX_RECORDS, decode_push
from mandao._inbound.replies import Reply, decode_replies

SAMPLE = "95153359,157589222222,15251664207,好的,2012-11-29 11:05:31"
SAMPLE_AT = datetime(2012, 11, 29, 11, 5, 31, tzinfo=CHINA)
PUSH = (
    "123456,62891,138****065,ceshi01,2009-10-19 15:51:05;"
    "123456,62891,139****404,test02,2009-10-19 15:51:17"
)


def _gb(text: str, encoding: str = "gb2312") -> str:
    return quote(text, encoding=encoding, safe="")


def _line(text: str, *, mobile: str = "13800138000", when: str = "2024-03-01 09:30:00") -> str:
    return f"1,106,{mobile},{text},{when}"


def test_the_sample_line_decodes_as_given() -> None:
    """The vendor-evidenced sample line gives every field, the time as aware China time."""
    (reply,) = decode_replies(SAMPLE).items
    assert reply == Reply(
        mobile="15251664207",
        text="好的",
        receiver="157589222222",
        ext="",
        received_at=SAMPLE_AT,
        mo_id="95153359",
        raw=SAMPLE,
    )
    assert reply.received_at is not None
    assert reply.received_at.utcoffset() == CHINA.utcoffset(None)


def test_the_sample_line_url_encoded_in_gb2312_decodes_alike() -> None:
    """The same line with its content URL-encoded as GB2312 gives the same text."""
    line = SAMPLE.replace("好的", "%BA%C3%B5%C4")
    (reply,) = decode_replies(line).items
    assert (reply.text, reply.raw) == ("好的", line)


def test_ext_is_what_follows_the_service_number() -> None:
    """ext: the receiver after the service number; "" when bare, unknown or foreign."""
    assert decode_replies(SAMPLE, service_number="157589").items[0].ext == "222222"
    bare = SAMPLE.replace("157589222222", "157589")
    assert decode_replies(bare, service_number="157589").items[0].ext == ""
    assert decode_replies(SAMPLE, service_number="106").items[0].ext == ""
    assert decode_replies(SAMPLE).items[0].receiver == "157589222222"


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("好的,谢谢,再见", "好的,谢谢,再见"),  # raw commas: the last comma ends the text
        ("%BA%C3%B5%C4%2C%D0%BB%D0%BB", "好的,谢谢"),  # an encoded comma
        (",", ","),
        ("", ""),
        ("a+b%2Bc", "a b+c"),  # URLDecoder: + is a space, %2B a plus
        ("50%", "50%"),  # a lone % is text
    ],
)
def test_commas_and_url_escapes_in_the_text_survive(content: str, text: str) -> None:
    """The first three commas and the last separate fields; the rest belong to the text."""
    (reply,) = decode_replies(_line(content)).items
    assert reply.text == text
    assert reply.received_at == datetime(2024, 3, 1, 9, 30, tzinfo=CHINA)


@pytest.mark.parametrize("text", ["退订", "收到，谢谢！", "ＴＤ", "ok 好的"])
def test_gb2312_content_round_trips(text: str) -> None:
    """Text URL-encoded as GB2312 (the mo format) decodes to itself."""
    assert decode_replies(_line(_gb(text))).items[0].text == text


@pytest.mark.parametrize(
    ("text", "encoding"), [("镕基", "gbk"), ("喆堃", "gbk"), ("😀€", "gb18030")]
)
def test_text_beyond_gb2312_is_read_as_gb18030(text: str, encoding: str) -> None:
    """GBK and GB18030 characters (outside GB2312) are retried, not declared unreadable."""
    assert decode_replies(_line(_gb(text, encoding))).items[0].text == text


def test_bytes_that_are_no_text_make_the_line_unreadable() -> None:
    """Content that decodes in none of GB2312, GBK, GB18030 is kept raw with the reason."""
    line = _line("%FF%FF")
    decoded = decode_replies(line)
    assert decoded.items == ()
    assert decoded.unreadable[0].raw == line
    assert decoded.unreadable[0].reason == (
        "the URL-decoded content is not gb18030 text (nor GB2312 or GBK, its subsets)"
    )


def test_recsms_utf8_lines_decode_as_utf8() -> None:
    """RECSMS_UTF8's canonical line (empty moID) with UTF-8 content, unpadded date."""
    line = f",121818,13800138000,{quote('爸爸，我到了')},2011-6-7 17:42:33"
    (reply,) = decode_replies(line, encoding="utf-8", service_number="1218").items
    assert (reply.mo_id, reply.text, reply.ext) == (None, "爸爸，我到了", "18")
    assert reply.received_at == datetime(2011, 6, 7, 17, 42, 33, tzinfo=CHINA)
    gb_bytes = _line(_gb("退订"))
    assert decode_replies(gb_bytes, encoding="utf-8").unreadable  # no GB fallback for UTF-8


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2012-11-29 11:05:31", datetime(2012, 11, 29, 11, 5, 31)),
        ("2011-6-7 17:42:33", datetime(2011, 6, 7, 17, 42, 33)),
        ("2011-6-7 7:02:03", datetime(2011, 6, 7, 7, 2, 3)),
        ("2011/06/07 07:02", datetime(2011, 6, 7, 7, 2)),
        ("2011-06-07T07:02:03", datetime(2011, 6, 7, 7, 2, 3)),
        ("20110607070203", datetime(2011, 6, 7, 7, 2, 3)),
        (" 2011-6-7 17:42:33 ", datetime(2011, 6, 7, 17, 42, 33)),
    ],
)
def test_padded_and_unpadded_dates_are_china_time(when: str, expected: datetime) -> None:
    """mo's padded dates, .NET's unpadded ones and a few neighbours all read as China time."""
    reply = decode_replies(_line("TD", when=when)).items[0]
    assert reply.received_at == expected.replace(tzinfo=CHINA)


@pytest.mark.parametrize("when", ["", "yesterday", "2012-13-01 10:00:00", "2012-02-30 10:00:00"])
def test_an_unreadable_time_is_none_and_stays_in_raw(when: str) -> None:
    """A time that cannot be read leaves received_at None; the key falls back on the raw time."""
    (reply,) = decode_replies(_line("TD", when=when)).items
    assert reply.received_at is None
    assert reply.key() == ("13800138000", "TD", "106", when.strip())


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_crlf_and_lf_lines_and_a_trailing_line_ending(newline: str) -> None:
    """Lines split on CRLF or LF; a trailing line ending and blank lines are no records."""
    raw = newline.join([_line("A"), _line("B"), "", _line("C")]) + newline
    decoded = decode_replies(raw)
    assert [r.text for r in decoded.items] == ["A", "B", "C"]
    assert decoded.unreadable == ()
    assert all("\r" not in r.raw for r in decoded.items)


@pytest.mark.parametrize("raw", ["1", "", "1\r\n", " 1 ", "\r\n"])
def test_nothing_waiting_is_no_reply(raw: str) -> None:
    """`1` (nothing to fetch), an empty result, or blanks decode to nothing."""
    decoded = decode_replies(raw)
    assert (decoded.items, decoded.unreadable) == ((), ())


@pytest.mark.parametrize("raw", ["-2", "-6", " -16\r\n"])
def test_a_negative_code_is_refused(raw: str) -> None:
    """A result code is the caller's to decode: the decoder refuses to read it as data."""
    with pytest.raises(ValueError, match="result code"):
        decode_replies(raw)


def test_a_bad_line_is_kept_beside_the_good_ones() -> None:
    """Bad lines become Unreadable (raw and reason), good ones around them still decode."""
    bad = ["garbage", "1,106,not-a-number,TD,2024-03-01 09:30:00", "1,106,13800138000,TD"]
    raw = "\r\n".join([_line("A"), bad[0], _line("B"), bad[1], bad[2], _line("C")])
    decoded = decode_replies(raw)
    assert [r.text for r in decoded.items] == ["A", "B", "C"]
    assert [u.raw for u in decoded.unreadable] == bad
    assert "found 1" in decoded.unreadable[0].reason
    assert "mobile" in decoded.unreadable[1].reason
    assert "found 4" in decoded.unreadable[2].reason


@pytest.mark.parametrize(
    ("field", "mobile"),
    [
        ("+8613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        (" 138 0013 8000 ", "13800138000"),
        ("138****065", "138****065"),
        ("10086", "10086"),
    ],
)
def test_mobiles_lose_spaces_and_the_86_prefix(field: str, mobile: str) -> None:
    """Spaces and a +86/0086/86 prefix go; a masked or short number is kept as given."""
    assert decode_replies(_line("TD", mobile=field)).items[0].mobile == mobile


def test_the_key_ignores_the_mo_id() -> None:
    """The same reply arriving twice (pull, then push) has one key whatever its moID."""
    first = decode_replies("95153359," + SAMPLE.partition(",")[2]).items[0]
    again = decode_replies("123456," + SAMPLE.partition(",")[2]).items[0]
    assert first != again
    assert first.key() == again.key() == (
        "15251664207", "好的", "157589222222", "2012-11-29T11:05:31+08:00"
    )  # fmt: skip


def test_an_unknown_encoding_is_refused() -> None:
    """A codec Python does not know is a LookupError, before any line is read."""
    with pytest.raises(LookupError):
        decode_replies(SAMPLE, encoding="no-such-codec")


def test_the_push_example_decodes_with_its_masked_mobiles() -> None:
    """The vendor's push example: two records, moID 123456, masked mobiles kept as given."""
    decoded = decode_push(PUSH, service_number="62891")
    assert decoded.unreadable == ()
    assert [(r.mo_id, r.receiver, r.ext, r.mobile, r.text) for r in decoded.items] == [
        ("123456", "62891", "", "138****065", "ceshi01"),
        ("123456", "62891", "", "139****404", "test02"),
    ]
    assert decoded.items[1].received_at == datetime(2009, 10, 19, 15, 51, 17, tzinfo=CHINA)
    assert decoded.items[0].raw == PUSH.split(";")[0]


def test_a_push_body_with_its_args_name_gb2312_content_and_a_bad_record() -> None:
    """`args=` is accepted; content is GB2312; a bad record is kept, a trailing ; ignored."""
    body = f"args=123456,106,13800138000,{_gb('退订')},2024-3-1 9:30:00;oops;"
    decoded = decode_push(body)
    assert [r.text for r in decoded.items] == ["退订"]
    assert decoded.unreadable == (
        Unreadable(
            "oops",
            "expected 5 comma-separated fields (moID, receiver, mobile, content, time), found 1",
        ),
    )


def test_records_past_the_push_limit_are_kept_unread() -> None:
    """Past the gateway's 1000 records a push's records are Unreadable; limit=None reads all."""
    body = ";".join(_line(f"r{i}") for i in range(MAX_RECORDS + 2))
    decoded = decode_push(body)
    assert len(decoded.items) == MAX_RECORDS
    assert [u.raw for u in decoded.unreadable] == [_line("r1000"), _line("r1001")]
    assert "at most 1000" in decoded.unreadable[0].reason
    assert len(decode_push(body, limit=None).items) == MAX_RECORDS + 2


def test_a_push_that_is_a_code_is_refused() -> None:
    """A negative code handed to decode_push is a ValueError, as for decode_replies."""
    with pytest.raises(ValueError, match="result code"):
        decode_push("-1")
