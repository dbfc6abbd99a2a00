"""Whether the browser tests run here, said once even when Selenium is absent: this module
imports nothing of Selenium, so it is collected when the others cannot be (conftest.py)."""

from __future__ import annotations

from typing import Any


def test_chromium_starts_for_the_browser_tests(browser: Any) -> None:
    """Headless Chromium starts through Selenium; without it (or Selenium, the driver, the
    CJK fonts) this skips naming what is missing and how to enable it, and fails under
    MANDAO_REQUIRE_BROWSER=1."""
    assert browser.capabilities["browserName"] in ("chrome", "chromium", "chrome-headless-shell")
