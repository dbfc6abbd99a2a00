"""The inbox's HTML over loopback, without a browser: the contract's elements, forms that
work without JavaScript, escaping, fragments and the static files."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from lxml import html

from mandao.testing import FAULT_KINDS, SandboxGateway

SN, PASSWORD = "SDK-TST-010-00001", "secret"


# The sandbox fixture ``gw`` (tests/testing/conftest.py), with its inbox.
pytestmark = pytest.mark.sandbox(inbox=True)


@pytest.fixture
def web(gw: SandboxGateway) -> Iterator[httpx.Client]:
    """An HTTP client on the inbox, sending what a browser's form post sends."""
    assert gw.inbox_url is not None
    origin = gw.inbox_url.rstrip("/")
    with httpx.Client(base_url=gw.inbox_url, timeout=10, headers={"Origin": origin}) as client:
        yield client


def _page(web: httpx.Client, path: str) -> html.HtmlElement:
    response = web.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return html.fromstring(response.text)


def _xpath_one(tree: html.HtmlElement, path: str) -> html.HtmlElement:
    found = tree.xpath(path)
    assert len(found) == 1, (path, len(found))
    return found[0]


def test_the_list_page_has_the_contracts_elements(gw: SandboxGateway, web: httpx.Client) -> None:
    """Search form, #messages with li.message (mobile link, content with the signature
    marked, status, meta), accounts, faults, clear, #live."""
    gw.client(SN, PASSWORD).send("13800138000", "验证码 482915【示例】")
    tree = _page(web, "/")
    form = _xpath_one(tree, '//form[@id="search"]')
    assert (form.get("role"), form.get("method"), form.get("action")) == ("search", "get", "/")
    _xpath_one(form, './/label[@for="q"]')
    box = _xpath_one(form, './/input[@id="q"]')
    assert (box.get("name"), box.get("type")) == ("q", "search")
    _xpath_one(form, './/button[@type="submit"]')
    item = _xpath_one(tree, '//ol[@id="messages"]/li[@class="message"]')
    assert (item.get("data-id"), item.get("data-mobile")) == ("1", "13800138000")
    link = _xpath_one(item, './/a[contains(@class, "mobile")]')
    assert (link.get("href"), link.text) == ("/threads/13800138000", "13800138000")
    content = _xpath_one(item, './/*[@class="content"]')
    assert content.text_content() == "验证码 482915【示例】"
    assert _xpath_one(content, './mark[@class="signature"]').text == "【示例】"
    assert _xpath_one(item, './/*[contains(@class, "status")]').text == "DELIVRD"
    meta = _xpath_one(item, './/*[@class="meta"]').text_content()
    for shown in ("mdsmssend", "soap11", "primary", "batch", "billed", "482915"):
        assert shown in meta
    assert _xpath_one(tree, '//span[@id="live"]').get("aria-live") == "polite"
    _xpath_one(tree, '//section[@id="accounts"]')
    _xpath_one(tree, '//section[@id="faults"]')
    clear = _xpath_one(tree, '//form[@id="clear-form"]')
    assert (clear.get("method"), clear.get("action")) == ("post", "/clear")
    _xpath_one(clear, './/button[@id="clear"]')


@pytest.mark.parametrize(
    ("tz", "offset", "zone"),
    [
        ("UTC0", timedelta(0), "UTC"),
        ("CST-8", timedelta(hours=8), "UTC+08:00"),
        ("XYZ+5:43:30", -timedelta(hours=5, minutes=43, seconds=30), "UTC-05:43:30"),
    ],
)
def test_times_say_their_zone(
    gw: SandboxGateway,
    web: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    tz: str,
    offset: timedelta,
    zone: str,
) -> None:
    """A message's time is the machine's, and says which zone that is: in China (CST-8),
    the same instant eight hours on, marked +08:00; an offset with seconds keeps them."""
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        gw.client(SN, PASSWORD).send("13800138000", "验证码 482915【示例】")
        shown = _xpath_one(_page(web, "/"), '//li[@class="message"]//time')
    finally:
        monkeypatch.undo()
        time.tzset()
    at = datetime.fromisoformat(shown.get("datetime"))
    local = at.astimezone(timezone(offset))
    assert shown.text == f"{local:%Y-%m-%d %H:%M:%S} {zone}"


@pytest.mark.parametrize("host", ["primary", "backup"])
def test_each_host_has_a_fault_form(web: httpx.Client, host: str) -> None:
    """form.fault-form with hidden host, a labelled select (no fault, every kind, down,
    up) and the apply button, by the contract's ids."""
    tree = _page(web, "/")
    form = _xpath_one(tree, f'//form[@class="fault-form"][.//input[@name="host"][@value="{host}"]]')
    assert (form.get("method"), form.get("action")) == ("post", "/faults")
    _xpath_one(form, f'.//label[@for="fault-kind-{host}"]')
    select = _xpath_one(form, f'.//select[@id="fault-kind-{host}"]')
    assert select.get("name") == "kind"
    values = [option.get("value") for option in select.xpath("./option")]
    assert values == ["", *FAULT_KINDS, "down", "up"]
    button = _xpath_one(form, f'.//button[@id="fault-apply-{host}"]')
    assert button.get("type") == "submit"
    for field in form.xpath(".//input[not(@type='hidden')] | .//select"):
        _xpath_one(form, f'.//label[@for="{field.get("id")}"]')  # every control labelled


def test_search_works_without_javascript(gw: SandboxGateway, web: httpx.Client) -> None:
    """GET /?q= lists what matches, and keeps the query in the box."""
    client = gw.client(SN, PASSWORD)
    client.send("13800138000", "您的订单已发货【示例】")
    client.send("13900139000", "验证码 1234【示例】")
    tree = _page(web, "/?q=订单")
    assert [li.get("data-id") for li in tree.xpath('//li[@class="message"]')] == ["1"]
    assert _xpath_one(tree, '//input[@id="q"]').get("value") == "订单"
    assert _page(web, "/?q=13900139000").xpath('//li[@class="message"]/@data-id') == ["2"]


def test_pages_of_fifty_with_links(gw: SandboxGateway, web: httpx.Client) -> None:
    """120 messages: 50 on page 1 with a link to page 2; page 3 holds the oldest 20."""
    gw.client(SN, PASSWORD).send([f"138{i:08d}" for i in range(120)], "通知【示例】")
    first = _page(web, "/")
    assert len(first.xpath('//li[@class="message"]')) == 50
    assert first.xpath('//a[@rel="next"]/@href') == ["/?page=2"]
    last = _page(web, "/?page=3")
    assert last.xpath('//li[@class="message"]/@data-id')[-1] == "1"
    assert len(last.xpath('//li[@class="message"]')) == 20
    assert web.get("/?page=0").status_code == 400
    assert web.get("/?sort=old").status_code == 400


def test_a_page_past_the_last_says_so(gw: SandboxGateway, web: httpx.Client) -> None:
    """Page 9 of 3: not "No messages yet" (there are 120), a link to the last page, and
    no Newer/Older links to pages just as empty."""
    gw.client(SN, PASSWORD).send([f"138{i:08d}" for i in range(120)], "通知【示例】")
    past = _page(web, "/?page=9")
    assert past.xpath('//li[@class="message"]') == []
    empty = _xpath_one(past, '//p[@id="empty"]')
    assert "No messages yet" not in empty.text_content()
    assert "past the last page (3)" in empty.text_content()
    assert empty.xpath(".//a/@href") == ["/?page=3"]
    assert past.xpath('//nav[@class="pager"]') == []
    searched = _page(web, "/?q=%E9%80%9A%E7%9F%A5&page=9")
    assert _xpath_one(searched, '//p[@id="empty"]').xpath(".//a/@href") == [
        "/?q=%E9%80%9A%E7%9F%A5&page=3"
    ]
    nothing = _xpath_one(_page(web, "/?q=nothing&page=2"), '//p[@id="empty"]')
    assert nothing.text_content() == "No message matches."


def test_message_text_is_escaped(gw: SandboxGateway, web: httpx.Client) -> None:
    """Untrusted text shows as text: no element of it reaches the page."""
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"【示例】'
    gw.client(SN, PASSWORD, require_signature=False).send("13800138000", evil)
    gw.reply("13800138000", "<b>bold</b>")
    for path in ("/", "/threads/13800138000", "/fragments/messages/1", "/fragments/bubbles/1"):
        text = web.get(path).text
        assert "<script>alert" not in text
        assert "<img src=x" not in text
        assert "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in web.get("/").text


def test_the_thread_page_and_its_reply_box(
    gw: SandboxGateway, web: httpx.Client, tmp_path: Path
) -> None:
    """#thread holds bubbles in time order; the reply form's POST answers 303 to the thread,
    the reply shows there and fetch_replies() returns it."""
    client = gw.client(SN, PASSWORD, journal=tmp_path / "j.sqlite3")
    client.send("13800138000", "回复TD退订【示例】")
    tree = _page(web, "/threads/13800138000")
    thread = _xpath_one(tree, '//section[@id="thread"]')
    assert thread.get("data-mobile") == "13800138000"
    form = _xpath_one(tree, '//form[@id="reply-form"]')
    assert (form.get("method"), form.get("action")) == ("post", "/threads/13800138000/reply")
    _xpath_one(form, './/label[@for="reply-text"]')
    assert _xpath_one(form, './/textarea[@id="reply-text"]').get("name") == "text"
    assert _xpath_one(form, './/button[@id="reply-send"]').get("type") == "submit"
    posted = web.post("/threads/13800138000/reply", data={"text": "TD", "sn": SN})
    assert (posted.status_code, posted.headers["location"]) == (303, "/threads/13800138000")
    tree = _page(web, "/threads/13800138000")
    bubbles = tree.xpath('//section[@id="thread"]/div')
    assert [b.get("class") for b in bubbles] == ["bubble sent", "bubble reply"]
    assert bubbles[0].get("data-id") == "1"
    assert "TD" in bubbles[1].text_content()
    assert [(r.mobile, r.text) for r in client.fetch_replies()] == [("13800138000", "TD")]


def test_a_thread_of_a_number_with_a_plus(gw: SandboxGateway, web: httpx.Client) -> None:
    """Mobiles are percent-encoded in thread links and read back whole: a number the
    client's rule does not read stays as written; +86 and a mainland mobile is that
    mobile's thread (as the client sends it), the reply from +86... in it."""
    gw.reply("+85212345678", "你好")
    tree = _page(web, "/threads/%2B85212345678")
    assert _xpath_one(tree, '//section[@id="thread"]').get("data-mobile") == "+85212345678"
    gw.reply("+8613800138000", "你好")
    tree = _page(web, "/threads/%2B8613800138000")
    assert _xpath_one(tree, '//section[@id="thread"]').get("data-mobile") == "13800138000"
    assert len(tree.xpath('//div[contains(@class, "bubble") and contains(@class, "reply")]')) == 1


def test_a_thread_of_what_is_no_number_is_not_found(gw: SandboxGateway, web: httpx.Client) -> None:
    """/threads/abc has nothing in it and no reply can come from it: 404 naming why, not
    a page whose reply box then fails; an empty thread of a number is a page."""
    response = web.get("/threads/abc")
    assert response.status_code == 404
    assert "not a mobile number: &#39;abc&#39;" in response.text  # escaped
    assert web.get("/threads/13900139000").status_code == 200


def test_the_fault_form_switches_a_fault(gw: SandboxGateway, web: httpx.Client) -> None:
    """POST /faults answers 303 to /; the kind is armed on every request until switched
    off; the page shows it selected."""
    response = web.post("/faults", data={"host": "backup", "kind": "slow", "delay": "0.5"})
    assert (response.status_code, response.headers["location"]) == (303, "/")
    (fault,) = gw.backup.faults
    assert (fault.kind, fault.delay, fault.probability) == ("slow", 0.5, 1.0)
    select = _xpath_one(_page(web, "/"), '//select[@id="fault-kind-backup"]')
    assert select.xpath("./option[@selected]/@value") == ["slow"]
    web.post("/faults", data={"host": "backup", "kind": "", "delay": "0.5"})
    assert gw.backup.faults == []
    assert (
        web.post("/faults", data={"host": "backup", "kind": "slow", "delay": "x"}).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("delay", "inf"), ("delay", "nan"), ("delay", "1e999"), ("times", "١٢"), ("status", "5e2")],
)
def test_the_fault_form_refuses_what_is_no_plain_number(
    gw: SandboxGateway, web: httpx.Client, field: str, value: str
) -> None:
    """delay=inf (which crashed a connection's thread), NaN, Arabic-Indic digits: 400
    naming the field, nothing armed."""
    data = {"host": "primary", "kind": "slow", field: value}
    response = web.post("/faults", data=data)
    assert response.status_code == 400
    assert gw.primary.faults == []


def test_the_clear_form(gw: SandboxGateway, web: httpx.Client) -> None:
    """POST /clear empties the inbox and answers 303 to /."""
    gw.client(SN, PASSWORD).send("13800138000", "通知【示例】")
    response = web.post("/clear")
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert _page(web, "/").xpath('//li[@class="message"]') == []


def test_fragments_are_the_pages_own_markup(gw: SandboxGateway, web: httpx.Client) -> None:
    """/fragments/messages/ID is the li the list has; bubbles and replies for threads."""
    gw.client(SN, PASSWORD).send("13800138000", "通知【示例】")
    reply = gw.reply("13800138000", "好的")
    on_page = _xpath_one(_page(web, "/"), '//li[@class="message"]')
    on_page.tail = None
    fragment = html.fromstring(web.get("/fragments/messages/1").text)
    assert html.tostring(fragment) == html.tostring(on_page)
    sent = html.fromstring(web.get("/fragments/bubbles/1").text)
    assert (sent.get("class"), sent.get("data-id")) == ("bubble sent", "1")
    came = html.fromstring(web.get(f"/fragments/replies/{reply.id}").text)
    assert came.get("class") == "bubble reply"
    assert web.get("/fragments/messages/9").status_code == 404


def test_static_files_ship_in_the_package_and_nothing_comes_from_outside(
    web: httpx.Client,
) -> None:
    """/static/inbox.css has the CJK font stack; inbox.js opens /api/events after the
    page's last message; no URL of the page, stylesheet or script leaves the inbox."""
    css = web.get("/static/inbox.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert (
        '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",\n'
        '    "Source Han Sans SC", sans-serif' in css.text
    )
    js = web.get("/static/inbox.js")
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert 'new EventSource("/api/events?after=" + String(lastId))' in js.text
    page = web.get("/").text
    for text in (page, css.text, js.text):
        assert not re.search(r"(https?:)?//[a-z]", text.replace("http://127.0.0.1", "")), text[:80]
    assert web.get("/static/other.js").status_code == 404
    assert "script-src" not in page  # a CSP header, not a meta tag
    assert "default-src 'self'" in web.get("/").headers["content-security-policy"]
