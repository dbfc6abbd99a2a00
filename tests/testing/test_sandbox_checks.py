"""Gateway checks and billing: every parameter code, -4, -20, -8, -19, mdgxsend lists, stime."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from mandao.testing import Rules, SandboxAccount, SandboxGateway, segments

SN = "SDK-TST-010-00001"
PASSWORD = "secret"
FUTURE = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"sn": ""}, "-601"),
        ({"sn": "SDK-TST-010"}, "-602"),
        ({"pwd": ""}, "-603"),
        ({"mobile": ""}, "-604"),
        ({"mobile": " , "}, "-604"),
        ({"content": ""}, "-605"),
        ({"ext": "1234567890"}, "-606"),
        ({"ext": "12a"}, "-607"),
        ({"stime": "2030-13-01 00:00:00"}, "-608"),
        ({"stime": "tomorrow"}, "-608"),
        ({"rrid": "1234567890123456789"}, "-609"),
        ({"rrid": "12ab"}, "-610"),
        ({"msgfmt": "9"}, "-611"),
        ({"content": "a" * 1001}, "-10"),
        ({"content": "你" * 501}, "-10"),
    ],
)
@pytest.mark.parametrize("protocol", ["soap11", "ashx"])
def test_parameter_codes(raw, gw, fields, code, protocol):
    """Each malformed field answers its vendor code, and nothing is recorded or charged."""
    given = {"mobile": "13800138000", "content": "hi"} | fields
    before = gw.balance(SN)
    assert raw.call(protocol, "mdsmssend", **given) == code
    assert len(gw.ledger) == 0
    assert gw.balance(SN) == before
    assert gw.ledger.rejections[-1].code == code


def test_length_limits_are_inclusive(raw):
    """1000 single-byte or 500 double-byte characters are still accepted."""
    assert raw.send("1", "a" * 1000).isdigit()
    assert raw.send("1", "你" * 500).isdigit()


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 140, 1),
        ("a" * 141, 3),
        ("你" * 70, 1),
        ("你" * 71, 2),
        ("你" * 134, 2),
        ("你" * 135, 3),
        ("😀" * 35, 1),
    ],
)
def test_billing_per_vendor_rule(raw, gw, text, parts):
    """Charge = segments (70, then per 67; pure ASCII 140, then per 67) × recipients."""
    assert segments(text) == parts
    before = gw.balance(SN)
    raw.send("1,2,3", text)
    assert gw.balance(SN) == before - 3 * parts
    assert {e.segments for e in gw.ledger.messages} == {parts}


def test_insufficient_balance_is_minus_4_nothing_recorded(raw, gw):
    """A send the balance does not cover answers -4; nothing is charged or recorded."""
    gw.set_balance(SN, 2)
    assert raw.send("1,2,3", "x") == "-4"
    assert (gw.balance(SN), len(gw.ledger)) == (2, 0)
    assert raw.send("1,2", "x").isdigit()
    assert gw.balance(SN) == 0


@pytest.mark.parametrize(
    ("account", "fields", "code"),
    [
        (SandboxAccount(PASSWORD, ext_allowed=False), {"ext": "12"}, "-9"),
        (SandboxAccount(PASSWORD, operations=frozenset({"mdsmssend"})), {"op": "mdgxsend"}, "-7"),
        (SandboxAccount(PASSWORD, disabled=True), {}, "-12"),
        (SandboxAccount(PASSWORD, allowed_ips=("10.1.2.3",)), {}, "-22"),
    ],
)
def test_account_switches(raw, gw, account, fields, code):
    """Per-account switches give -9 (ext), -7 (operation), -12 (disabled), -22 (IP binding)."""
    gw.add_account(SN, account)
    op = fields.pop("op", "mdsmssend")
    assert raw.call("soap11", op, mobile="1", content="x", **fields) == code


def test_ip_allow_list_accepts_loopback(raw, gw):
    """An allow-list holding 127.0.0.1 lets loopback calls through."""
    gw.update_account(SN, allowed_ips=("127.0.0.1",))
    assert raw.send("1", "x").isdigit()


def test_duplicate_window_gives_minus_20(raw_for):
    """Same mobile + same content inside the window answers -20; after it, it is accepted."""
    now = [1_700_000_000.0]
    with SandboxGateway(
        accounts={SN: PASSWORD}, rules=Rules(duplicate_window=60), clock=lambda: now[0]
    ) as gw:
        raw = raw_for(gw)
        assert raw.send("1,2", "same").isdigit()
        assert raw.send("2", "same", "http-get") == "-20"
        assert raw.send("2", "other").isdigit()
        now[0] += 61
        assert raw.send("2", "same").isdigit()
        assert len(gw.ledger) == 4


def test_duplicate_check_off_by_default(raw, gw):
    """With the default rules the same message may be sent twice."""
    assert raw.send("1", "same").isdigit()
    assert raw.send("1", "same").isdigit()
    assert len(gw.ledger.duplicates()) == 1


def test_rate_limit_gives_minus_8(raw_for):
    """More send calls per second than the serial's rate limit answer -8."""
    now = [1_700_000_000.0]
    accounts = {SN: SandboxAccount(PASSWORD, rate_limit=2)}
    with SandboxGateway(accounts=accounts, clock=lambda: now[0]) as gw:
        raw = raw_for(gw)
        assert [raw.send("1", f"m{i}")[:1] for i in range(3)] == ["1", "1", "-"]
        assert gw.ledger.rejections[-1].code == "-8"
        now[0] += 1.0
        assert raw.send("1", "m3").isdigit()


def test_concurrent_hosts_give_minus_19(raw, raw_for, gw):
    """While a serial's request is in flight on the primary, the backup answers -19."""
    held_result: list[str] = []
    other = raw_for(gw)
    with gw.primary.hold() as held:
        worker = threading.Thread(target=lambda: held_result.append(raw.send("1", "held one")))
        worker.start()
        # The held request holds its serial's slot until released: wait on that, not on time.
        assert held.wait()
        assert other.send("2", "on backup", host="backup") == "-19"
    worker.join()
    assert held_result[0].isdigit()
    assert other.send("2", "on backup", host="backup").isdigit()
    assert [r.code for r in gw.ledger.rejections] == ["-19"]


def test_host_switch_window(raw_for):
    """With host_switch_window, a switch to the other host soon after a request is -19."""
    now = [1_700_000_000.0]
    with SandboxGateway(
        accounts={SN: PASSWORD}, rules=Rules(host_switch_window=5), clock=lambda: now[0]
    ) as gw:
        raw = raw_for(gw)
        assert raw.send("1", "a").isdigit()
        assert raw.send("1", "b", host="backup") == "-19"
        now[0] += 6
        assert raw.send("1", "c", host="backup").isdigit()


def test_mdgxsend_parallel_lists(raw, gw):
    """mdgxsend pairs mobiles and separately-encoded contents; a comma inside one is %2C."""
    result = raw.call(
        "soap11", "mdgxsend", mobile="1,2", content="a%2Cb,%E4%BD%A0+c", ext="7,8", rrid="55"
    )
    assert result == "55"
    entries = gw.ledger.messages
    assert [(e.mobile, e.content, e.ext, e.rrid, e.operation) for e in entries] == [
        ("1", "a,b", "7", "55", "mdgxsend"),
        ("2", "你 c", "8", "55", "mdgxsend"),
    ]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"content": "a"}, "-623"),
        ({"ext": "1,2,3"}, "-624"),
        ({"stime": f"{FUTURE},{FUTURE},{FUTURE}"}, "-625"),
        ({"rrid": "1,2,3"}, "-626"),
        ({"mobile": "1,"}, "-604"),
        ({"content": "a,"}, "-605"),
        ({"ext": "1,x"}, "-607"),
    ],
)
def test_mdgxsend_list_codes(raw, fields, code):
    """mdgxsend list mismatches answer -623 (content), -624 (ext), -625 (stime), -626 (rrid)."""
    given = {"mobile": "1,2", "content": "a,b"} | fields
    assert raw.call("soap11", "mdgxsend", **given) == code


def test_mdgxsend_per_mobile_rrid_returns_first(raw, gw):
    """With one rrid per mobile each entry keeps its own; the call returns the first."""
    assert raw.call("ashx", "mdgxsend", mobile="1,2", content="a,b", rrid="11,22") == "11"
    assert [e.rrid for e in gw.ledger.messages] == ["11", "22"]
    assert {e.id for e in gw.ledger.messages} == {"11"}


def test_mdgxsend_generated_id_is_18_digits(raw, gw):
    """Without an rrid mdgxsend returns one fresh 18-digit id shared by the batch."""
    result = raw.call("http-get", "mdgxsend", mobile="1,2", content="a,b")
    assert len(result) == 18
    assert result.isdigit()
    assert {e.rrid for e in gw.ledger.messages} == {result}


def test_scheduled_messages_are_recorded_as_scheduled(raw, gw):
    """A future stime is recorded as scheduled; a past one is sent at once."""
    raw.send("1", "later", stime=FUTURE)
    raw.send("2", "now", stime="2001-01-01 09:00:00")
    assert [e.mobile for e in gw.ledger.scheduled] == ["1"]
    assert [e.mobile for e in gw.ledger.delivered] == ["2"]
    assert gw.ledger.scheduled[0].stime == FUTURE


def test_mdsmssend_skips_empty_mobile_items(raw, gw):
    """Stray empty items in mdsmssend's mobile list (',,' or a trailing comma) are skipped."""
    raw.send("1,,2,", "x")
    assert [e.mobile for e in gw.ledger.messages] == ["1", "2"]


def test_too_many_mobiles_is_minus_6(raw_for):
    """More numbers than Rules.max_mobiles in one call answers -6."""
    with SandboxGateway(accounts={SN: PASSWORD}, rules=Rules(max_mobiles=3)) as gw:
        assert raw_for(gw).send("1,2,3,4", "x") == "-6"


@pytest.mark.parametrize(
    ("sn", "code"),
    [("SDK-TST-010-00001", None), ("SDK-TST-010-00001\n", "-602"), ("SDK-TST-010-0000", "-602"),
     ("", "-601")],
)  # fmt: skip
def test_a_serial_is_well_formed_only_whole(sn: str, code: str | None) -> None:
    """The serial's shape is matched against the whole value: a trailing newline too is
    a malformed serial (-602), as a regex's ``$`` alone would let it pass."""
    from mandao.testing._checks import check_serial

    assert check_serial(sn, "pwd") == code
