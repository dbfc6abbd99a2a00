"""The inbox's controls in a real browser: the faults panel changes what the next Client send
meets, the pages fit a 390 px phone without sideways scrolling, and the search and reply
boxes are reached with Tab and named by their labels."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

import mandao
from mandao.testing import SandboxGateway

from . import pages
from .conftest import Shot
from .test_inbox import MOBILE, OTHER, TEXT, item

#: Long words that a careless layout lets run off a phone's screen.
LONG = (
    "请点击 https://m.example.cn/verify?token=AbCdEf0123456789AbCdEf0123456789AbCdEf0123456789"
    "AbCdEf0123456789 完成验证，验证码 482913【漫道科技股份有限公司测试】"
)


def set_fault(browser: WebDriver, host: str, kind: str) -> None:
    """Pick ``kind`` in ``host``'s fault form and apply it (the page comes back)."""
    Select(pages.css(browser, f"#fault-kind-{host}")).select_by_value(kind)
    pages.submit_and_wait(browser, browser.find_element(By.ID, f"fault-apply-{host}"))


def test_a_code_fault_from_the_panel_fails_the_next_send(
    browser: WebDriver, gateway: SandboxGateway, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """The panel's "code" fault on the primary host makes the next send fail as the gateway's
    -11 answer (GatewayInternalError, from the primary); "no fault" lets sends through."""
    browser.get(inbox_url)
    set_fault(browser, "primary", "code")
    shot("fault-armed")
    with pytest.raises(mandao.GatewayInternalError) as caught:
        client.send([MOBILE], TEXT)
    assert caught.value.code == -11
    assert caught.value.host == gateway.hosts[0]

    set_fault(browser, "primary", "")
    client.send([MOBILE], TEXT)
    browser.refresh()
    item(browser, MOBILE)


def test_a_host_taken_down_from_the_panel_sends_by_the_backup(
    browser: WebDriver, gateway: SandboxGateway, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """The panel's "down" on the primary refuses its connections: the send fails over to the
    backup, which the list shows; "down" on both makes the next send unreachable."""
    browser.get(inbox_url)
    set_fault(browser, "primary", "down")
    result = client.send([MOBILE], TEXT)
    assert result.host == gateway.hosts[1]
    latest = gateway.latest(MOBILE)
    assert latest is not None
    assert latest.host_name == "backup"
    browser.refresh()
    assert "backup" in item(browser, MOBILE).find_element(By.CSS_SELECTOR, ".meta").text
    shot("failover")

    set_fault(browser, "backup", "down")
    with pytest.raises(mandao.GatewayUnreachable):
        client.send([OTHER], TEXT)
    set_fault(browser, "primary", "up")
    set_fault(browser, "backup", "up")
    client.send([OTHER], TEXT)


def test_the_pages_fit_a_phone(
    browser: WebDriver, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """At 390 px the list and a thread (long words, a reply) scroll only downwards."""
    client.send([MOBILE], TEXT)
    client.send([MOBILE], LONG)
    client.send([OTHER], "订单 7731 已发货【漫道测试】")
    pages.phone(browser)
    browser.get(inbox_url)
    item(browser, OTHER)
    fits = pages.overflow(browser)
    assert fits["inner"] == 390, f"the page is not laid out at the phone's width: {fits}"
    assert fits["scroll"] <= fits["client"], f"the list scrolls sideways at 390 px: {fits}"
    shot("phone-list")

    browser.get(f"{inbox_url}threads/{MOBILE}")
    pages.css(browser, "#reply-text").send_keys("好的")
    pages.submit_and_wait(browser, browser.find_element(By.ID, "reply-send"))
    pages.css(browser, "#thread .bubble.reply")
    fits = pages.overflow(browser)
    assert fits["scroll"] <= fits["client"], f"the thread scrolls sideways at 390 px: {fits}"
    shot("phone-thread")


def test_search_and_reply_work_from_the_keyboard(
    browser: WebDriver, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """Tab reaches the labelled search box and reply box; typing and Enter search, and
    Tab to the send button and Enter send the reply."""
    client.send([MOBILE], TEXT)
    client.send([OTHER], "订单 7731 已发货【漫道测试】")
    browser.get(inbox_url)
    item(browser, MOBILE)
    pages.tab_to(browser, "q")
    box = browser.find_element(By.ID, "q")
    assert pages.label_of(browser, box), "the search box has no <label>"
    assert box.accessible_name, "the search box has no accessible name"
    pages.replaced(browser, ActionChains(browser).send_keys("482913", Keys.ENTER).perform,
                   "the search's results")  # fmt: skip
    shown = browser.find_elements(By.CSS_SELECTOR, "#messages li.message")
    assert [m.get_attribute("data-mobile") for m in shown] == [MOBILE]
    for control in ("fault-kind-primary", "fault-kind-backup"):
        assert pages.label_of(browser, browser.find_element(By.ID, control)), control

    browser.get(f"{inbox_url}threads/{MOBILE}")
    pages.css(browser, "#thread")
    pages.tab_to(browser, "reply-text")
    reply_box = browser.find_element(By.ID, "reply-text")
    assert pages.label_of(browser, reply_box), "the reply box has no <label>"
    assert reply_box.accessible_name, "the reply box has no accessible name"
    ActionChains(browser).send_keys("TD").perform()
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "reply-send"
    pages.replaced(browser, ActionChains(browser).send_keys(Keys.ENTER).perform,
                   "the thread after the reply")  # fmt: skip
    assert "TD" in pages.css(browser, "#thread .bubble.reply").text
    fetched = client.fetch_replies()
    assert [(r.mobile, r.text) for r in fetched] == [(MOBILE, "TD")]
    assert fetched.suppressed == (MOBILE,)
    shot("keyboard-thread")
