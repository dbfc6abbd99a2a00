"""The browser tests' fixtures: one headless Chromium per test module (tests/browser/harness.py),
a sandbox with its inbox, and a client of it with a journal.

Without Debian's chromium, chromium-driver and fonts-noto-cjk the tests skip, saying how to
enable them; with ``MANDAO_REQUIRE_BROWSER=1`` (CI sets it) they fail instead. Selenium is
one of the test extras; without it the modules that import it at their top (every test
module but ``test_browser_available.py``, and ``pages.py``) are not collected at all (not
even for ``--doctest-modules``), so the rest of the suite runs, and
``test_browser_available.py`` skips (or fails) saying what is missing and how to enable it.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

import mandao
from mandao.testing import SandboxGateway

from ..conftest import PASSWORD, SN
from . import harness

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

ENV_REQUIRE = "MANDAO_REQUIRE_BROWSER"


def _selenium_importable() -> bool:
    try:
        return importlib.util.find_spec("selenium") is not None
    except (ImportError, ValueError):
        return False


if not _selenium_importable():
    # Read by pytest when it collects this folder: these import selenium at their top.
    collect_ignore_glob = ["test_harness.py", "test_inbox*.py", "pages.py"]

Shot = Callable[[str], Path]


def unavailable(reason: str) -> NoReturn:
    """Skip the browser test (or fail it, when CI requires the browser tests)."""
    message = f"browser tests need {reason}; to enable them: {harness.INSTALL}"
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(f"{ENV_REQUIRE}=1, but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """A headless Chromium for the module's tests; each test starts it on a blank page."""
    absent = harness.missing()
    if absent:
        unavailable(", ".join(absent))
    driver = harness.chrome()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(autouse=True)
def shot(browser: WebDriver, tmp_path: Path) -> Iterator[Shot]:
    """Save a screenshot of the page as ``tmp_path/NAME.png`` (each test takes at least one:
    when it took none, as after a failure, one is taken at its end)."""
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.delete_all_cookies()
    browser.get("about:blank")
    taken: list[Path] = []

    def take(name: str) -> Path:
        path = tmp_path / f"{name}.png"
        assert browser.save_screenshot(str(path)), f"no screenshot saved at {path}"
        taken.append(path)
        return path

    yield take
    if not taken:
        take("final")


@pytest.fixture
def gateway() -> Iterator[SandboxGateway]:
    """A running sandbox with its inbox, and one registered account (SN, PASSWORD)."""
    with SandboxGateway(accounts={SN: PASSWORD}, inbox=True) as gw:
        yield gw


@pytest.fixture
def client(gateway: SandboxGateway, tmp_path: Path) -> Iterator[mandao.Client]:
    """A real client of the sandbox account, with a journal (replies need one)."""
    with gateway.client(SN, PASSWORD, journal=tmp_path / "j.sqlite3", timeout=(1, 5)) as c:
        yield c


@pytest.fixture
def inbox_url(gateway: SandboxGateway) -> str:
    """The running inbox's address (``http://127.0.0.1:PORT/``)."""
    url = gateway.inbox_url
    assert url is not None, "SandboxGateway(inbox=True) is running, but inbox_url is None"
    return url
