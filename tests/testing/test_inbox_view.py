"""The inbox from Python: gw.messages(), gw.message(id), gw.latest(mobile), gw.clear()."""

from __future__ import annotations

from typing import Any

import pytest

from mandao.testing import InboxMessage, InboxPage, SandboxGateway

SN, PASSWORD = "SDK-TST-010-00001", "secret"
Raw = Any  # the raw caller fixture of conftest.py


def test_the_inbox_is_off_by_default_and_its_helpers_work_all_the_same(gw: SandboxGateway) -> None:
    """inbox_url is None without inbox=True; the Python helpers read the ledger anyway."""
    assert gw.inbox_url is None
    assert gw.describe()["inbox"] is None
    gw.client(SN, PASSWORD).send("13800138000", "验证码 482915【示例】")
    latest = gw.latest("13800138000")
    assert isinstance(latest, InboxMessage)
    assert latest.codes == ("482915",)


def test_parts_warnings_and_codes_are_tuples_and_json_arrays(gw: SandboxGateway, raw: Raw) -> None:
    """The frozen message holds tuples (so it hashes); to_dict and the JSON give lists."""
    raw.send("13800138000", "x" * 70 + "你 482915")  # no signature: a warning; 2 parts
    message = gw.message(1)
    assert [type(v) for v in (message.parts, message.warnings, message.codes)] == [tuple] * 3
    assert len(message.parts) == 2
    assert message.warnings
    assert hash(message) == hash(gw.message(1))
    data = message.to_dict()
    assert data["parts"] == list(message.parts)
    assert data["warnings"] == list(message.warnings)
    assert [type(data[k]) for k in ("parts", "warnings", "codes")] == [list] * 3


def test_a_message_has_every_field_of_the_contract(gw: SandboxGateway, raw: Raw) -> None:
    """id, batch, gateway id, host name, parts, encoding, warnings, signature, status, codes."""
    gateway_id = raw.send("13800138000", "验证码 482915，5分钟内有效【示例】", rrid="77")
    message = gw.message(1)
    assert (message.id, message.batch, message.mobile, message.sn) == (1, 1, "13800138000", SN)
    assert (message.gateway_id, message.rrid) == (gateway_id, "77")
    assert (message.host, message.host_name) == (gw.primary.send_url, "primary")
    assert (message.protocol, message.operation) == ("soap11", "mdsmssend")
    assert (message.segments, message.parts) == (1, ("验证码 482915，5分钟内有效【示例】",))
    assert (message.encoding, message.warnings, message.signature) == ("ucs2", (), "【示例】")
    assert (message.status, message.codes, message.scheduled) == ("DELIVRD", ("482915",), False)
    assert message.time.tzinfo is not None
    data = message.to_dict()
    assert data["time"] == message.time.isoformat()
    assert data["codes"] == ["482915"]
    assert set(data) == {f for f in InboxMessage.__dataclass_fields__}


def test_one_request_is_one_batch_and_numbers_follow_the_recipients(gw: SandboxGateway) -> None:
    """mdsmssend to three numbers: messages 1-3 of batch 1; the next send is batch 2."""
    client = gw.client(SN, PASSWORD)
    client.send(["13800138000", "13900139000", "13700137000"], "通知【示例】")
    client.send("13600136000", "再通知【示例】")
    page = gw.messages()
    assert isinstance(page, InboxPage)
    assert [(m.id, m.batch, m.mobile) for m in page.messages] == [
        (4, 2, "13600136000"),
        (3, 1, "13700137000"),
        (2, 1, "13900139000"),
        (1, 1, "13800138000"),
    ]
    # The page is its messages: iterated, counted and indexed as its list is.
    assert (list(page), len(page), page[0], page[-2:]) == (
        page.messages,
        4,
        page.messages[0],
        page.messages[2:],
    )


def test_pages_are_newest_first_and_a_page_past_the_last_is_empty(gw: SandboxGateway) -> None:
    """12 messages at 5 a page: 3 pages; page 3 holds the oldest 2; page 4 is empty."""
    gw.client(SN, PASSWORD).send([f"138001380{i:02d}" for i in range(12)], "通知【示例】")
    first = gw.messages(per_page=5)
    assert (first.total, first.pages, first.page) == (12, 3, 1)
    assert [m.id for m in first.messages] == [12, 11, 10, 9, 8]
    assert [m.id for m in gw.messages(page=3, per_page=5).messages] == [2, 1]
    beyond = gw.messages(page=4, per_page=5)
    assert (beyond.messages, beyond.total, beyond.pages) == ([], 12, 3)


@pytest.mark.parametrize(("page", "per_page"), [(0, 50), (1, 0), (1, 501), (True, 5), (1, 2.5)])
def test_bad_paging_is_a_value_error(gw: SandboxGateway, page: object, per_page: object) -> None:
    """page from 1, per_page from 1 to 500, whole numbers."""
    with pytest.raises(ValueError, match="page"):
        gw.messages(page=page, per_page=per_page)  # type: ignore[arg-type]


def test_search_by_text_or_mobile_and_the_mobile_filter(gw: SandboxGateway) -> None:
    """q finds text (ignoring case) or part of a mobile; mobile= keeps one number's."""
    client = gw.client(SN, PASSWORD)
    client.send("13800138000", "Your ORDER shipped【Shop】")
    client.send("13900139000", "验证码 1234【示例】")
    client.send("13800138000", "验证码 5678【示例】")
    assert [m.id for m in gw.messages("order").messages] == [1]
    assert [m.id for m in gw.messages("验证码").messages] == [3, 2]
    assert [m.id for m in gw.messages("0139").messages] == [2]
    assert [m.id for m in gw.messages(mobile="13800138000").messages] == [3, 1]
    assert [m.id for m in gw.messages("验证码", mobile="13800138000").messages] == [3]
    assert gw.messages("nothing like it").total == 0


def test_latest_and_message_lookups(gw: SandboxGateway) -> None:
    """latest(mobile) is its newest or None; message(id) a KeyError when there is none."""
    client = gw.client(SN, PASSWORD)
    assert gw.latest("13800138000") is None
    client.send("13800138000", "验证码 1111【示例】")
    client.send("13800138000", "验证码 2222【示例】")
    latest = gw.latest("13800138000")
    assert latest is not None
    assert latest.codes == ("2222",)
    with pytest.raises(KeyError):
        gw.message(3)


def test_clear_empties_the_view_and_numbers_are_never_reused(gw: SandboxGateway) -> None:
    """After clear() (how many went), the ledger is empty and the next message is number 3."""
    client = gw.client(SN, PASSWORD)
    client.send(["13800138000", "13900139000"], "通知【示例】")
    balance = gw.balance(SN)
    assert gw.clear() == 2
    assert (len(gw.ledger), gw.messages().total, gw.latest("13800138000")) == (0, 0, None)
    with pytest.raises(KeyError):
        gw.message(1)
    assert gw.balance(SN) == balance  # accounts untouched
    client.send("13800138000", "再通知【示例】")
    assert [(m.id, m.batch) for m in gw.messages().messages] == [(3, 2)]


def test_status_follows_the_delivery_reports(gw: SandboxGateway) -> None:
    """None while the report is not due; its status once due; an override's token."""
    gw.configure_reports(delay=60, overrides={"13900139000": "UNDELIV"})
    gw.client(SN, PASSWORD).send(["13800138000", "13900139000"], "通知【示例】")
    assert [m.status for m in gw.messages().messages] == [None, None]
    gw.advance_reports(60)
    assert [m.status for m in gw.messages().messages] == ["UNDELIV", "DELIVRD"]


def test_a_long_text_shows_its_billed_parts(gw: SandboxGateway) -> None:
    """71 Chinese characters (signature included) are billed 2 messages: parts of 67 and 4."""
    gw.client(SN, PASSWORD).send("13800138000", "通" * 67 + "【示例】")
    message = gw.message(1)
    assert message.segments == 2
    assert [len(p) for p in message.parts] == [67, 4]
    assert "".join(message.parts) == message.content


def test_the_backup_host_and_a_scheduled_send_are_named(gw: SandboxGateway, raw: Raw) -> None:
    """host_name says which host took it; a future stime is scheduled, shown as given."""
    raw.send("13800138000", "通知【示例】", host="backup", stime="2099-01-01 08:00:00")
    message = gw.message(1)
    assert (message.host_name, message.scheduled, message.stime) == (
        "backup",
        True,
        "2099-01-01 08:00:00",
    )


def test_a_thread_holds_messages_and_replies_in_time_order(gw: SandboxGateway) -> None:
    """The thread's items interleave what was sent and what came back, oldest first."""
    client = gw.client(SN, PASSWORD)
    client.send("13800138000", "要退订请回复TD【示例】")
    gw.reply("13800138000", "TD")
    client.send("13800138000", "您已退订【示例】")
    client.send("13900139000", "别人的【示例】")
    items = gw._view.thread("13800138000")
    assert [getattr(i, "content", None) or i.text for i in items] == [
        "要退订请回复TD【示例】",
        "TD",
        "您已退订【示例】",
    ]


def test_the_ledgers_own_reads_use_the_index(gw: SandboxGateway) -> None:
    """for_mobile comes from the per-mobile index, oldest first, as before."""
    client = gw.client(SN, PASSWORD)
    client.send(["13800138000", "13900139000"], "一【示例】")
    client.send("13800138000", "二【示例】")
    assert [e.content for e in gw.ledger.for_mobile("13800138000")] == ["一【示例】", "二【示例】"]
    assert gw.ledger.for_mobile("13700137000") == []
    assert gw.ledger.last_number == 3


def test_a_new_message_reads_only_the_reports_due_since(gw: SandboxGateway) -> None:
    """Each message read after a send looks at the reports that came due since the last
    look, not at all of them again: 40 sends read about 40 reports, not 40 × 41 / 2."""
    book = gw._state.reports
    read: list[int] = []
    for name in ("due", "due_since"):
        method = getattr(book, name, None)
        if method is not None:

            def counted(*args: Any, _method: Any = method) -> Any:
                found = _method(*args)
                read.append(len(found))
                return found

            setattr(book, name, counted)
    client = gw.client(SN, PASSWORD)
    for n in range(40):
        client.send(f"138{n:08d}", "通知【示例】")
        assert gw.latest(f"138{n:08d}").status == "DELIVRD"  # type: ignore[union-attr]
    assert sum(read) <= 2 * 40, sum(read)


def test_a_reused_rrid_shows_its_latest_report(gw: SandboxGateway) -> None:
    """Two sends to one number under one rrid share a status: the later report's."""
    client = gw.client(SN, PASSWORD)
    client.send("13800138000", "一【示例】", rrid="42")
    assert gw.latest("13800138000").status == "DELIVRD"  # type: ignore[union-attr]
    gw.configure_reports(overrides={"13800138000": "UNDELIV"})
    client.send("13800138000", "二【示例】", rrid="42")
    assert [m.status for m in gw.messages().messages] == ["UNDELIV", "UNDELIV"]


def test_replies_are_read_from_their_index(gw: SandboxGateway) -> None:
    """A thread's replies, one reply by moID, all replies: read from the view's index by
    mobile, never from a scan of every reply the gateway holds; a clear empties it."""
    first = gw.reply("13800138000", "TD")
    gw.reply("13900139000", "别人的")
    every = gw._state.inbox.all
    scans: list[int] = []
    gw._state.inbox.all = lambda *a: scans.append(1) or every(*a)  # type: ignore[method-assign]
    view = gw._view
    assert [r.text for r in view.replies("13800138000")] == ["TD"]
    assert [r.mobile for r in view.replies()] == ["13800138000", "13900139000"]
    assert view.reply(first.id) == first
    assert [getattr(i, "text", None) for i in view.thread("13800138000")] == ["TD"]
    assert scans == []
    gw.clear()
    with pytest.raises(KeyError):
        view.reply(first.id)
    later = gw.reply("13800138000", "再见")
    assert view.replies("13800138000") == [later]
