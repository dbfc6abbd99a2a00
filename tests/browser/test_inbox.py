"""The sandbox inbox in a real browser: the message list, its live updates, search, and a
thread with a reply typed into its reply box; every message is sent through a real Client."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

import mandao
from mandao.testing import SandboxGateway

from . import pages
from .conftest import Shot

MOBILE = "13800138000"
TEXT = "您的验证码是 482913，五分钟内有效【漫道测试】"
OTHER = "13900139000"
OTHER_TEXT = "订单 7731 已发货，请注意查收【漫道测试】"


def item(browser: WebDriver, mobile: str) -> WebElement:
    """The list's message to ``mobile``, once it is on the page."""
    return pages.css(browser, f'#messages li.message[data-mobile="{mobile}"]')


def items(browser: WebDriver) -> list[WebElement]:
    """The messages the list shows now, top first."""
    return browser.find_elements(By.CSS_SELECTOR, "#messages li.message")


def search(browser: WebDriver, term: str) -> None:
    """Type ``term`` into the search box and press Enter, as a person would."""
    box = pages.css(browser, "#q")
    box.clear()
    box.send_keys(term)
    pages.replaced(browser, lambda: box.send_keys(Keys.ENTER), f"the results for {term!r}")


def test_the_page_loads_and_draws_chinese(
    browser: WebDriver, gateway: SandboxGateway, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """The inbox lists a sent message with its Chinese text drawn in a real CJK font and its
    signature marked, beside the accounts and faults panels."""
    client.send([MOBILE], TEXT)
    browser.get(inbox_url)
    assert browser.title.strip(), "the inbox page has no title"
    message = item(browser, MOBILE)
    assert message.get_attribute("data-id") == str(gateway.messages().messages[0].id)
    content = message.find_element(By.CSS_SELECTOR, ".content")
    assert "您的验证码是 482913" in content.text
    signature = content.find_element(By.CSS_SELECTOR, "mark.signature")
    assert signature.text == "【漫道测试】"
    drawn = pages.renders(browser, content, "验", "漫")
    assert drawn["ok"], f"Chinese is not drawn with a real font: {drawn}"
    accounts = browser.find_element(By.ID, "accounts")
    assert "SDK-TST-010-00001" in accounts.text
    browser.find_element(By.ID, "faults")
    shot("inbox")


def test_a_sent_message_appears_without_a_reload(
    browser: WebDriver, gateway: SandboxGateway, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """With the page open, a message sent through the Client appears at the top of the list,
    and the page is the same page (no reload)."""
    client.send([OTHER], OTHER_TEXT)
    browser.get(inbox_url)
    item(browser, OTHER)
    pages.live(browser)
    pages.mark(browser, "no reload")
    client.send([MOBILE], TEXT)
    message = item(browser, MOBILE)
    assert "482913" in message.find_element(By.CSS_SELECTOR, ".content").text
    latest = gateway.latest(MOBILE)
    assert latest is not None
    assert message.get_attribute("data-id") == str(latest.id)
    assert [m.get_attribute("data-mobile") for m in items(browser)] == [MOBILE, OTHER]
    assert pages.marked(browser) == "no reload"
    shot("live")


def test_search_finds_by_text_and_mobile_and_hides_the_rest(
    browser: WebDriver, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """Searching for a message's text or mobile shows it alone; a search that matches
    nothing shows none; a live message that does not match the search stays out."""
    client.send([MOBILE], TEXT)
    client.send([OTHER], OTHER_TEXT)
    browser.get(inbox_url)
    item(browser, MOBILE)
    item(browser, OTHER)
    search(browser, "482913")
    assert [m.get_attribute("data-mobile") for m in items(browser)] == [MOBILE]
    assert pages.css(browser, "#q").get_attribute("value") == "482913"
    shot("search")
    search(browser, OTHER)
    assert [m.get_attribute("data-mobile") for m in items(browser)] == [OTHER]
    search(browser, "没有这样的短信")
    assert items(browser) == []

    search(browser, "验证码")
    pages.live(browser)
    client.send([OTHER], "发货通知 5521【漫道测试】")  # does not match: stays out
    client.send([OTHER], "新的验证码 660275【漫道测试】")
    pages.until(browser, lambda b: len(items(b)) == 2, "the matching live message")
    texts = [m.find_element(By.CSS_SELECTOR, ".content").text for m in items(browser)]
    assert "660275" in texts[0]
    assert all("5521" not in text for text in texts), texts


def test_a_reply_typed_in_the_thread_reaches_fetch_replies(
    browser: WebDriver, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """From the list to the mobile's thread: the sent message is a bubble, a reply typed
    into the reply box shows as the handset's bubble, and the Client fetches it; a message
    sent meanwhile joins the thread without a reload."""
    client.send([MOBILE], TEXT)
    browser.get(inbox_url)
    link = item(browser, MOBILE).find_element(By.CSS_SELECTOR, ".mobile")
    if link.tag_name != "a":
        link = link.find_element(By.TAG_NAME, "a")
    link.click()
    thread = pages.css(browser, f'#thread[data-mobile="{MOBILE}"]')
    assert "482913" in thread.find_element(By.CSS_SELECTOR, ".bubble.sent").text

    box = pages.css(browser, "#reply-text")
    box.send_keys("收到，谢谢")
    pages.submit_and_wait(browser, browser.find_element(By.ID, "reply-send"))
    reply = pages.css(browser, "#thread .bubble.reply")
    assert "收到，谢谢" in reply.text
    fetched = client.fetch_replies()
    assert [(r.mobile, r.text) for r in fetched] == [(MOBILE, "收到，谢谢")]

    pages.live(browser)
    pages.mark(browser, "no reload")
    client.send([MOBILE], "您的订单已受理【漫道测试】")
    pages.until(
        browser,
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#thread .bubble.sent")) == 2,
        "the second message in the thread",
    )
    assert pages.marked(browser) == "no reload"
    shot("thread")
