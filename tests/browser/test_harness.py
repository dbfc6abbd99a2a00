"""The browser harness itself, on a small page of its own served from 127.0.0.1 (port 0):
Debian's Chromium starts headless, draws Chinese with a real font, and the page checks
can tell a drawn glyph from a missing one and a page that scrolls sideways from one that
does not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from . import pages
from .conftest import Shot

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>harness page</title>
<style>body { font-family: "Noto Sans CJK SC", sans-serif; margin: 0; }
#wide { width: 1200px; display: none; }</style></head>
<body><label for="q">搜索</label> <input id="q" type="search">
<p id="text">验证码 482913，五分钟内有效【漫道】</p><div id="wide">wide</div></body></html>
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_page() -> Iterator[str]:
    """The harness page's URL, served on 127.0.0.1 at a free port while the test runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_chinese_renders_with_a_real_font(browser: WebDriver, local_page: str, shot: Shot) -> None:
    """Two different Chinese characters are drawn differently, each unlike a missing glyph."""
    browser.get(local_page)
    assert browser.title == "harness page"
    text = pages.css(browser, "#text")
    assert "验证码 482913" in text.text
    drawn = pages.renders(browser, text, "验", "漫")
    assert drawn["ok"], drawn
    assert shot("harness").stat().st_size > 0


def test_the_glyph_check_sees_a_missing_glyph(browser: WebDriver, local_page: str) -> None:
    """The check's control: two code points no font has are drawn as the same box."""
    browser.get(local_page)
    drawn = pages.renders(browser, pages.css(browser, "#text"), "\U0010fffc", "漫")
    assert not drawn["ok"]
    assert drawn["same"][0][2], drawn


def test_phone_width_and_sideways_scroll(browser: WebDriver, local_page: str) -> None:
    """At 390 px the page is 390 px wide; a 1200 px element makes it scroll sideways."""
    pages.phone(browser)
    browser.get(local_page)
    fits = pages.overflow(browser)
    assert fits["inner"] == 390
    assert fits["scroll"] <= fits["client"], fits
    browser.execute_script("document.getElementById('wide').style.display = 'block';")
    wide = pages.overflow(browser)
    assert wide["scroll"] > wide["client"], wide


def test_tab_reaches_a_labelled_field(browser: WebDriver, local_page: str) -> None:
    """Tab reaches the search box, whose label names it."""
    browser.get(local_page)
    assert pages.tab_to(browser, "q") == 1
    field = browser.find_element(By.ID, "q")
    assert pages.label_of(browser, field) == "搜索"
    assert field.accessible_name == "搜索"
