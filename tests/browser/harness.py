"""Headless Chromium driven by Selenium, set up one way for the browser tests and the docs'
screenshot script (docs/images/make_inbox_screenshot.py).

Debian's packages only: ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` are named
explicitly, so Selenium Manager (which would download a driver) never runs, and
``fonts-noto-cjk`` gives headless Chromium a font for Chinese (without it every Chinese
character is drawn as the same empty box).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Where Debian's fonts-noto-cjk puts its fonts.
CJK_FONTS = Path("/usr/share/fonts/opentype/noto")
INSTALL = "apt-get install chromium chromium-driver fonts-noto-cjk"

#: Chromium keeps to the page it is given: no component updates, sync, first-run pages,
#: extensions or proxies (the tests reach 127.0.0.1 only).
ARGUMENTS = (
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
    "--force-device-scale-factor=1",
    # Scrollbars take no width, as on a phone: the screenshots show the page alone.
    "--hide-scrollbars",
)


def missing() -> list[str]:
    """What the browser tests need and this machine lacks (empty when all is there)."""
    absent = []
    if importlib.util.find_spec("selenium") is None:
        absent.append('selenium (pip install -e ".[test]")')
    if not os.access(CHROMIUM, os.X_OK):
        absent.append(f"chromium ({CHROMIUM})")
    if not os.access(CHROMEDRIVER, os.X_OK):
        absent.append(f"chromium-driver ({CHROMEDRIVER})")
    if not any(CJK_FONTS.glob("NotoSansCJK-*")):
        absent.append(f"fonts-noto-cjk ({CJK_FONTS}/NotoSansCJK-*)")
    return absent


def chrome(width: int = 1280, height: int = 900) -> WebDriver:
    """A new headless Chromium of Debian's, showing pages ``width`` x ``height`` CSS pixels."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    if os.geteuid() == 0:
        # Chromium refuses to start its sandbox as root; CI and these machines run as root.
        options.add_argument("--no-sandbox")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        viewport(driver, width, height)
    except BaseException:
        driver.quit()
        raise
    return driver


def viewport(driver: WebDriver, width: int, height: int) -> None:
    """Size the window so that pages get ``width`` x ``height`` CSS pixels (a headless
    window, too, keeps part of its height for a browser's toolbars)."""
    driver.set_window_size(width, height)
    inner: list[int] = driver.execute_script("return [window.innerWidth, window.innerHeight];")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
