"""The live page misses nothing, in a real browser: a message sent while the page's script
is still loading, one sent while the page sat in the back/forward cache, and a fault
switched or spent elsewhere all reach the open page without a reload."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

import mandao
from mandao.testing import SandboxGateway

from . import pages
from .conftest import Shot
from .test_inbox import MOBILE, OTHER, OTHER_TEXT, TEXT, item, items


def test_a_message_sent_while_the_script_loads_appears(
    browser: WebDriver, gateway: SandboxGateway, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """The page is rendered with one message, its script held back (DevTools blocks it); a
    second message is sent before the script runs; once it runs and the stream is live,
    the second message is on the page: the stream began after the page's data-last-id."""
    client.send([OTHER], OTHER_TEXT)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/static/inbox.js"]})
    try:
        browser.get(inbox_url)
        assert [m.get_attribute("data-mobile") for m in items(browser)] == [OTHER]
        assert pages.css(browser, "#messages").get_attribute("data-last-id") == "1"
        client.send([MOBILE], TEXT)  # after the render, before the script
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        browser.execute_cdp_cmd("Network.disable", {})
    browser.execute_script(
        "var s = document.createElement('script'); s.src = '/static/inbox.js';"
        "document.head.appendChild(s);"
    )
    pages.live(browser)
    message = item(browser, MOBILE)
    assert "482913" in message.find_element(By.CSS_SELECTOR, ".content").text
    assert [m.get_attribute("data-mobile") for m in items(browser)] == [MOBILE, OTHER]
    assert pages.css(browser, "#total").text == "2"
    shot("load-gap")


def test_a_page_back_from_the_cache_opens_its_stream_again(
    browser: WebDriver, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """pagehide closes the stream; a message sent meanwhile; pageshow with persisted (a
    page restored from the back/forward cache) opens it again after the last message seen,
    and the message missed appears, on the same page."""
    client.send([OTHER], OTHER_TEXT)
    browser.get(inbox_url)
    pages.live(browser)
    pages.mark(browser, "not reloaded")
    persisted = "new PageTransitionEvent(arguments[0], {persisted: true})"
    browser.execute_script(f"window.dispatchEvent({persisted});", "pagehide")
    client.send([MOBILE], TEXT)
    browser.execute_script(f"window.dispatchEvent({persisted});", "pageshow")
    item(browser, MOBILE)
    assert [m.get_attribute("data-mobile") for m in items(browser)] == [MOBILE, OTHER]
    assert pages.marked(browser) == "not reloaded"
    shot("back-forward")


def test_a_fault_switched_or_spent_elsewhere_shows_in_the_panel(
    browser: WebDriver, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """A fault switched through the JSON API selects its kind in the open page's panel;
    a one-time fault, once it fired on a send, leaves the panel at "no fault" again."""
    browser.get(inbox_url)
    pages.live(browser)
    pages.mark(browser, "not reloaded")
    select = pages.css(browser, "#fault-kind-primary")
    with httpx.Client(base_url=inbox_url, timeout=10) as api:
        body = {"host": "primary", "kind": "code", "code": "-4", "times": 1}
        assert api.post("/api/faults", json=body).status_code == 200
    pages.until(browser, lambda b: select.get_attribute("value") == "code", "the panel's code")
    assert "code" in pages.css(browser, "#host-state-primary").text
    shot("fault-switched")
    with pytest.raises(mandao.InsufficientBalance):  # the -4 the fault answers
        client.send([MOBILE], TEXT)
    pages.until(browser, lambda b: select.get_attribute("value") == "", "the panel's no fault")
    assert "code" not in pages.css(browser, "#host-state-primary").text
    assert pages.marked(browser) == "not reloaded"
