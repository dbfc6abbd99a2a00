"""The inbox pages as the browser sees them hold every element the inbox's contract names
(the ids and attributes these tests and users' own browser tests rely on), load nothing
from outside the inbox, and the clear button empties the list."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

import mandao
from mandao.testing import FAULT_KINDS, SandboxGateway

from . import pages
from .conftest import Shot
from .test_inbox import MOBILE, TEXT, item, items

SCRIPT = Path(__file__).parents[2] / "docs" / "images" / "make_inbox_screenshot.py"

#: CSS selectors that must each match on the list page.
LIST = [
    'form#search[role="search"][method="get"][action="/"]',
    '#search label[for="q"]',
    '#search input#q[name="q"][type="search"]',
    '#search [type="submit"]',
    "ol#messages",
    f'#messages li.message[data-id][data-mobile="{MOBILE}"] .mobile',
    f'li.message[data-mobile="{MOBILE}"] .content mark.signature',
    f'li.message[data-mobile="{MOBILE}"] .status',
    f'li.message[data-mobile="{MOBILE}"] .meta',
    "section#accounts",
    "section#faults",
    'form#clear-form[method="post"][action="/clear"] button#clear',
    'span#live[aria-live="polite"]',
] + [
    selector
    for host in ("primary", "backup")
    for selector in (
        f'form.fault-form[method="post"][action="/faults"] '
        f'input[type="hidden"][name="host"][value="{host}"]',
        f'label[for="fault-kind-{host}"]',
        f'form.fault-form select#fault-kind-{host}[name="kind"]',
        f'form.fault-form button#fault-apply-{host}[type="submit"]',
    )
]

#: The same for a mobile's thread page.
THREAD = [
    f'section#thread[data-mobile="{MOBILE}"] .bubble.sent[data-id]',
    f'section#thread[data-mobile="{MOBILE}"] .bubble.reply',
    f'form#reply-form[method="post"][action="/threads/{MOBILE}/reply"]',
    '#reply-form label[for="reply-text"]',
    '#reply-form textarea#reply-text[name="text"]',
    '#reply-form button#reply-send[type="submit"]',
]


def absent(browser: WebDriver, selectors: list[str]) -> list[str]:
    """The selectors that match nothing on the page."""
    return [s for s in selectors if not browser.find_elements(By.CSS_SELECTOR, s)]


def test_the_list_page_has_the_contract_elements(
    browser: WebDriver, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """Search form, message list, accounts, faults (each kind, "down", "up", none), clear
    button and live indicator, with the contract's ids and attributes."""
    client.send([MOBILE], TEXT)
    browser.get(inbox_url)
    item(browser, MOBILE)
    assert absent(browser, LIST) == []
    for host in ("primary", "backup"):
        select = browser.find_element(By.ID, f"fault-kind-{host}")
        values = [o.get_attribute("value") for o in select.find_elements(By.TAG_NAME, "option")]
        assert set(values) >= {"", "down", "up", *FAULT_KINDS}, (host, values)
    link = item(browser, MOBILE).find_element(By.CSS_SELECTOR, ".mobile")
    href = (link if link.tag_name == "a" else link.find_element(By.TAG_NAME, "a")).get_attribute(
        "href"
    )
    assert href == f"{inbox_url}threads/{MOBILE}"
    shot("list")


def test_the_thread_page_has_the_contract_elements(
    browser: WebDriver, gateway: SandboxGateway, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """A thread with a sent message and a reply, and its reply form, as the contract says."""
    client.send([MOBILE], TEXT)
    gateway.reply(MOBILE, "好的")
    browser.get(f"{inbox_url}threads/{MOBILE}")
    pages.css(browser, "#thread .bubble.reply")
    assert absent(browser, THREAD) == []
    shot("thread")


def test_the_pages_load_nothing_from_outside(
    browser: WebDriver, gateway: SandboxGateway, client: mandao.Client, inbox_url: str
) -> None:
    """Every resource the list and a thread load comes from the inbox itself, its own
    stylesheet and script among them."""
    client.send([MOBILE], TEXT)
    gateway.reply(MOBILE, "好的")
    loaded: set[str] = set()
    for url in (inbox_url, f"{inbox_url}threads/{MOBILE}"):
        browser.get(url)
        pages.live(browser)
        loaded.update(
            browser.execute_script(
                "return performance.getEntriesByType('resource').map((e) => e.name);"
            )
        )
    assert {f"{inbox_url}static/inbox.css", f"{inbox_url}static/inbox.js"} <= loaded
    assert [u for u in loaded if not u.startswith(inbox_url)] == []


def test_the_clear_button_empties_the_list(
    browser: WebDriver, gateway: SandboxGateway, client: mandao.Client, inbox_url: str, shot: Shot
) -> None:
    """Clear empties the list (and the gateway's view); the next message gets a new id."""
    client.send([MOBILE], TEXT)
    browser.get(inbox_url)
    first = item(browser, MOBILE).get_attribute("data-id")
    pages.submit_and_wait(browser, browser.find_element(By.ID, "clear"))
    assert items(browser) == []
    assert gateway.messages().total == 0
    pages.live(browser)
    client.send([MOBILE], TEXT)
    assert item(browser, MOBILE).get_attribute("data-id") == str(int(first or 0) + 1)
    shot("cleared")


def test_the_docs_screenshot_script_makes_its_picture(
    browser: WebDriver, tmp_path: Path, shot: Shot
) -> None:
    """docs/images/make_inbox_screenshot.py (which makes docs/images/inbox.png) still runs:
    a PNG of the list and the phone-width thread side by side."""
    out = tmp_path / "inbox.png"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True)
    width, height = struct.unpack(">II", out.read_bytes()[16:24])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (width, height) == (1100 + 390 + 3 * 16, 820 + 2 * 16)
    browser.get(out.as_uri())
    shot("picture")
