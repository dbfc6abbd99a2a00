"""Replies (MO): injected by a test, served by mo (once), mo2 (cursor), RECSMS_UTF8, pushed."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote_plus

import pytest
import requests
from lxml import etree

from mandao.testing import (
    DEFAULT_SERVICE_NUMBER,
    PushReceiver,
    SandboxAccount,
    SandboxGateway,
)

SN = "SDK-TST-010-00001"
PASSWORD = "secret"
ASMX = ["soap11", "soap12", "http-get", "http-post"]
CHINA = timezone(timedelta(hours=8))
AT = datetime(2026, 3, 9, 7, 5, 2, tzinfo=CHINA)


def _lines(result: str) -> list[list[str]]:
    return [line.split(",") for line in result.split("\r\n")]


def _mo_bodies(resp: requests.Response) -> list[dict[str, str]]:
    """The MOBody elements of a RECSMS_UTF8 reply (SOAP or HTTP), as dicts."""
    root = etree.fromstring(resp.content)
    ns = "{http://tempuri.org/}"
    return [{etree.QName(c).localname: c.text or "" for c in b} for b in root.iter(f"{ns}MOBody")]


@pytest.mark.parametrize("protocol", ASMX)
def test_mo_hands_each_reply_out_once_in_the_line_format(raw, gw, protocol):
    """mo: CRLF lines moID,特服号+ext,mobile,GB2312-URL-encoded text,time; then "1"."""
    first = gw.reply("13800138000", "好的, 收到", ext="12", at=AT)
    second = gw.reply("13900139000", "TD", at=AT + timedelta(seconds=1))
    result = raw.call(protocol, "mo")
    encoded = "%BA%C3%B5%C4%2C+%CA%D5%B5%BD"
    assert _lines(result) == [
        [
            str(first.id),
            DEFAULT_SERVICE_NUMBER + "12",
            "13800138000",
            encoded,
            "2026-03-09 07:05:02",
        ],
        [str(second.id), DEFAULT_SERVICE_NUMBER, "13900139000", "TD", "2026-03-09 07:05:03"],
    ]
    assert unquote_plus(_lines(result)[0][3], encoding="gb18030") == "好的, 收到"
    assert second.id > first.id
    assert raw.call(protocol, "mo") == "1"


def test_mo_lines_keep_their_crlf_on_the_wire(raw, gw):
    """The line break between two replies is a literal CR LF inside <moResult>."""
    gw.reply("13800138000", "a")
    gw.reply("13800138000", "b")
    body = raw.soap11("mo").content
    assert b"\r\n" in body.split(b"<moResult>")[1]


@pytest.mark.parametrize("protocol", ASMX)
def test_mo2_is_a_cursor_that_does_not_consume(raw, gw, protocol):
    """mo2(maxID) returns the replies with an id above maxID, read or not, again and again."""
    a, b, c = (gw.reply(f"1380013800{i}", f"r{i}") for i in range(3))
    assert [int(line[0]) for line in _lines(raw.call(protocol, "mo2", maxID="0"))] == [
        a.id,
        b.id,
        c.id,
    ]
    after_a = raw.call(protocol, "mo2", maxID=str(a.id))
    assert [int(line[0]) for line in _lines(after_a)] == [b.id, c.id]
    assert raw.call(protocol, "mo2", maxID=str(a.id)) == after_a
    assert raw.call(protocol, "mo2", maxID=str(c.id)) == "1"
    # mo2 read nothing away: mo still hands out all three.
    assert len(_lines(raw.call(protocol, "mo"))) == 3


@pytest.mark.parametrize("protocol", ASMX)
def test_recsms_utf8_is_an_array_of_mobody(raw, gw, protocol):
    """RECSMS_UTF8: MOBody elements, content URL-encoded UTF-8, recdate not zero-padded."""
    gw.reply("13800138000", "爸 退订", ext="7", at=datetime(2011, 6, 7, 7, 2, 3))
    gw.reply("13900139000", "😀", at=datetime(2011, 6, 7, 17, 42, 33))
    resp = getattr(raw, protocol.replace("-", "_"))("RECSMS_UTF8")
    assert resp.status_code == 200, resp.text
    number = DEFAULT_SERVICE_NUMBER
    assert _mo_bodies(resp) == [
        {
            "total_num": "2",
            "this_num": "2",
            "recvtel": number + "7",
            "sender": "13800138000",
            "content": "%E7%88%B8+%E9%80%80%E8%AE%A2",
            "recdate": "2011-6-7 7:02:03",
        },
        {
            "total_num": "2",
            "this_num": "2",
            "recvtel": number,
            "sender": "13900139000",
            "content": "%F0%9F%98%80",
            "recdate": "2011-6-7 17:42:33",
        },
    ]
    empty = getattr(raw, protocol.replace("-", "_"))("RECSMS_UTF8")
    assert _mo_bodies(empty) == [{"total_num": "-1"}]


def test_recsms_utf8_http_reply_is_an_indented_document(raw, gw):
    """Over HTTP GET the reply is XmlSerializer's indented ArrayOfMOBody in tempuri."""
    gw.reply("13800138000", "x", at=AT)
    text = raw.http_get("RECSMS_UTF8").text
    assert text.startswith(
        '<?xml version="1.0" encoding="utf-8"?>\r\n<ArrayOfMOBody xmlns:xsi="http://www.w3.org/'
        '2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns="http://tempuri.org/">\r\n  <MOBody>\r\n    <total_num>1</total_num>'
    )
    assert text.endswith("  </MOBody>\r\n</ArrayOfMOBody>")


def test_mo_and_recsms_share_one_destructive_read(raw, gw):
    """A reply mo handed out is not handed out again by RECSMS_UTF8 (and the reverse)."""
    gw.reply("13800138000", "one")
    assert len(_lines(raw.call("soap11", "mo"))) == 1
    assert _mo_bodies(raw.soap11("RECSMS_UTF8")) == [{"total_num": "-1"}]
    gw.reply("13800138000", "two")
    assert _mo_bodies(raw.soap11("RECSMS_UTF8"))[0]["content"] == "two"
    assert raw.call("soap11", "mo") == "1"


@pytest.mark.parametrize("protocol", ASMX)
def test_get_code_answers_the_service_number(raw_for, protocol):
    """GetCode answers the account's 特服号 (set per account); it takes the plain password."""
    accounts = {SN: SandboxAccount(PASSWORD, service_number="10657123")}
    with SandboxGateway(accounts=accounts) as gw:
        raw = raw_for(gw)
        assert raw.call(protocol, "GetCode") == "10657123"
        assert raw.call(protocol, "GetCode", pwd=gw.pwd(SN, PASSWORD)) == "-2"
        assert gw.reply("13800138000", "hi", ext="9").recvtel == "106571239"


def test_replies_of_two_accounts_stay_apart(raw_for):
    """With two accounts a reply needs sn=, and each account reads only its own."""
    other = "SDK-TST-010-00002"
    with SandboxGateway(accounts={SN: PASSWORD, other: "pw2"}) as gw:
        with pytest.raises(ValueError, match="sn="):
            gw.reply("13800138000", "which?")
        gw.reply("13800138000", "for the second", sn=other)
        assert raw_for(gw).call("soap11", "mo") == "1"
        assert "for+the+second" in raw_for(gw, other, "pw2").call("soap11", "mo")
        assert [r.sn for r in gw.replies()] == [other]


def test_reply_times_are_china_time(raw, gw):
    """An aware time is shown in China time; a naive one is China time already."""
    gw.reply("13800138000", "utc", at=datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
    gw.reply("13800138000", "naive", at=datetime(2026, 1, 1, 8, 31))
    times = [line[4] for line in _lines(raw.call("soap11", "mo"))]
    assert times == ["2026-01-01 08:30:00", "2026-01-01 08:31:00"]


@pytest.mark.parametrize(
    ("mobile", "text", "ext", "match"),
    [
        ("", "x", "", "mobile"),
        ("1,2", "x", "", "mobile"),
        ("abc", "x", "", "mobile"),
        ("1234", "x", "", "mobile"),
        ("1" * 21, "x", "", "mobile"),
        ("++8613800138000", "x", "", "mobile"),
        ("１３８００１３８０００", "x", "", "mobile"),
        ("13800138000", "", "", "text"),
        ("13800138000", "x", "a", "ext"),
    ],
)
def test_reply_refuses_what_the_gateway_could_not_carry(gw, mobile, text, ext, match):
    """A mobile that is not 5-20 ASCII digits (an optional leading +), an empty text, a
    non-digit extension are refused."""
    with pytest.raises(ValueError, match=match):
        gw.reply(mobile, text, ext=ext)


def test_reply_many_refuses_the_whole_batch_for_one_bad_mobile(gw):
    """One implausible mobile among good ones: ValueError, and no reply is stored."""
    with pytest.raises(ValueError, match="not a mobile number: 'abc'"):
        gw.reply_many([("13800138000", "TD"), ("abc", "x")])
    assert gw.replies() == []


def test_reply_accepts_a_plus_and_the_length_bounds(gw):
    """+8613800138000, 5 digits and 20 digits are plausible numbers."""
    made = gw.reply_many([("+8613800138000", "a"), ("12345", "b"), ("1" * 20, "c")])
    assert [r.mobile for r in made] == ["+8613800138000", "12345", "1" * 20]


def test_mo_shares_the_serial_slot_with_sends(raw, raw_for, gw):
    """Polling mo while a send of the serial is in flight answers -18, as any operation."""
    with gw.primary.hold() as held:
        worker = threading.Thread(target=raw.send, args=("1", "held"))
        worker.start()
        assert held.wait()
        assert raw_for(gw).call("soap11", "mo") == "-18"
    worker.join()
    assert gw.ledger.rejections_with("-18")[0].operation == "mo"


# -- push --------------------------------------------------------------------------------
def test_push_posts_args_records_and_reads_the_answer(gw):
    """A registered URL gets args=moID 123456,特服号+ext,mobile,GB2312 text,time; "0" is taken."""
    with PushReceiver() as receiver:
        gw.push_replies_to(receiver.url)
        gw.reply("13800138000", "好", ext="3", at=AT)
        assert gw.wait_pushes(1)
        assert receiver.received == [
            f"123456,{DEFAULT_SERVICE_NUMBER}3,13800138000,%BA%C3,2026-03-09 07:05:02"
        ]
        (attempt,) = gw.pushes
        assert (attempt.status, attempt.answer, attempt.accepted) == (200, "0", True)
        assert (attempt.error, attempt.url) == ("", receiver.url)
        assert attempt.records == receiver.received[0]


def test_push_sends_at_most_1000_records_each(gw):
    """2,500 replies at once go out as pushes of 1000, 1000 and 500 records joined by ';'."""
    with PushReceiver() as receiver:
        gw.push_replies_to(receiver.url)
        gw.reply_many((f"138{i:08d}", f"第{i}条") for i in range(2500))
        assert gw.wait_pushes(3)
        assert [len(p.split(";")) for p in receiver.received] == [1000, 1000, 500]
        assert [len(p.replies) for p in gw.pushes] == [1000, 1000, 500]
        assert {r.split(",")[0] for p in receiver.received for r in p.split(";")} == {"123456"}


def test_push_body_is_a_form_with_the_records_encoded_once_more(gw):
    """The POST body is application/x-www-form-urlencoded, args= the records form-encoded."""
    seen: list[tuple[str, bytes]] = []
    done = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < int(
                data.lower().split(b"content-length:")[1].split(b"\r\n")[0]
            ):
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            seen.append((head.decode("latin-1"), body))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n0")
        done.set()

    threading.Thread(target=serve, daemon=True).start()
    try:
        gw.push_replies_to(f"http://127.0.0.1:{server.getsockname()[1]}/mo.aspx?args=%XXX%")
        gw.reply("13800138000", "a b", at=AT)
        assert done.wait(10)
        assert gw.wait_pushes(1)
    finally:
        server.close()
    head, body = seen[0]
    assert head.startswith("POST /mo.aspx HTTP/1.1")
    assert "content-type: application/x-www-form-urlencoded" in head.lower()
    assert parse_qs(body.decode("ascii"))["args"] == [
        f"123456,{DEFAULT_SERVICE_NUMBER},13800138000,a+b,2026-03-09 07:05:02"
    ]
    assert gw.pushes[0].accepted


def test_a_push_not_answered_0_is_recorded_as_not_taken(gw):
    """A receiver answering anything but 0 leaves the push not accepted; no retry is made."""
    with PushReceiver(answer="ERROR") as receiver:
        gw.push_replies_to(receiver.url)
        gw.reply("13800138000", "x")
        assert gw.wait_pushes(1)
        assert (gw.pushes[0].accepted, gw.pushes[0].answer) == (False, "ERROR")
        gw.reply("13800138000", "y")
        assert gw.wait_pushes(2)
        assert len(receiver.received) == 2


def test_a_push_to_a_closed_port_records_the_error(gw):
    """A push nobody takes (connection refused) is recorded with its error; replies stay."""
    receiver = PushReceiver().start()
    url = receiver.url
    receiver.stop()
    gw.push_replies_to(url)
    gw.reply("13800138000", "nobody home")
    assert gw.wait_pushes(1)
    attempt = gw.pushes[0]
    assert (attempt.status, attempt.accepted) == (None, False)
    assert "Connection" in attempt.error
    assert len(gw.replies()) == 1


def test_pushed_replies_stay_readable_by_mo(raw, gw):
    """Replies that were pushed are still handed out by mo."""
    with PushReceiver() as receiver:
        gw.push_replies_to(receiver.url)
        gw.reply("13800138000", "both")
        assert gw.wait_pushes(1)
    assert _lines(raw.call("soap11", "mo"))[0][3] == "both"


def test_push_urls_are_loopback_only_and_can_be_removed(gw):
    """Only http://127.0.0.1 (or localhost) URLs are accepted; None stops pushing."""
    for url in ("https://127.0.0.1/mo", "http://example.com/mo", "http://10.0.0.1:80/mo"):
        with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
            gw.push_replies_to(url)
    with PushReceiver() as receiver:
        gw.push_replies_to(receiver.url)
        gw.push_replies_to(None)
        gw.reply("13800138000", "kept, not pushed")
    assert gw.pushes == []


def test_push_per_account_url(raw_for):
    """sn= registers a URL for one serial; the others use the default one (or none)."""
    other = "SDK-TST-010-00002"
    with SandboxGateway(accounts={SN: PASSWORD, other: "pw"}) as gw, PushReceiver() as receiver:
        gw.push_replies_to(receiver.url, sn=other)
        gw.reply("13800138000", "not pushed", sn=SN)
        gw.reply("13900139000", "pushed", sn=other)
        assert gw.wait_pushes(1)
        assert [p.replies[0].text for p in gw.pushes] == ["pushed"]


@pytest.mark.parametrize(
    "binding", ["WebServiceSoap", "WebServiceSoap12", "WebServiceHttpGet", "WebServiceHttpPost"]
)
def test_zeep_reads_replies_over_every_binding(gw, binding):
    """zeep on the served WSDL reads mo, mo2 (an xs:int), RECSMS_UTF8 (MOBody[]), GetCode."""
    import zeep

    service = zeep.Client(gw.primary.account_url + "?wsdl").bind("WebService", binding)
    pwd = gw.pwd(SN, PASSWORD)
    first = gw.reply("13800138000", "你好")
    assert str(service.mo2(SN, pwd, 0)).split(",")[0] == str(first.id)
    assert str(service.mo(SN, pwd)).split(",")[2] == "13800138000"
    gw.reply("13900139000", "再见")
    bodies = service.RECSMS_UTF8(SN, PASSWORD)
    rows = bodies["MOBody"] if binding.startswith("WebServiceHttp") else bodies
    assert [(r["sender"], unquote_plus(r["content"])) for r in rows] == [("13900139000", "再见")]
    assert service.GetCode(SN, PASSWORD) == DEFAULT_SERVICE_NUMBER
