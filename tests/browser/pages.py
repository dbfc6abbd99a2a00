"""What the browser tests ask of a page: waits on conditions, and checks run in the page.

Every wait is a ``WebDriverWait`` on a condition; its timeout (``HANG``) only turns a hang
into a failure, it never paces a test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

#: Seconds after which a wait is a hang: a failure, not a pace.
HANG = 20.0

#: A code point no font has (plane 16's last private-use one): how a missing glyph looks.
NO_GLYPH = "\U0010fffd"

# Draws each character in the element's own font stack (its computed font-family), and
# says how each looks: its width, how many pixels it inks, and which of them are drawn
# exactly alike. Without a font for them, Chromium draws every character as the same
# .notdef box, so two different Chinese characters come out pixel for pixel identical,
# and identical to a code point no font has.
_GLYPHS_JS = """
const [element, chars] = arguments;
const family = getComputedStyle(element).fontFamily;
const canvas = document.createElement("canvas");
canvas.width = 96;
canvas.height = 96;
const context = canvas.getContext("2d", {willReadFrequently: true});
const drawn = chars.map((ch) => {
    context.clearRect(0, 0, 96, 96);
    context.font = "64px " + family;
    context.textBaseline = "top";
    context.fillStyle = "#000";
    context.fillText(ch, 8, 8);
    const data = context.getImageData(0, 0, 96, 96).data;
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { ink += 1; } }
    return {width: context.measureText(ch).width, ink: ink, pixels: data.join(",")};
});
return {
    family: family,
    widths: drawn.map((d) => d.width),
    ink: drawn.map((d) => d.ink),
    same: drawn.map((d) => drawn.map((e) => d.pixels === e.pixels)),
};
"""


_MARKS = itertools.count(1)


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    """A wait that fails only when the page hangs. While a document is torn down for the
    next, chromedriver may answer a command with an error of its own ("Node with given id
    does not belong to the document", no execution context) instead of a stale element or
    no such element: such errors are waited through; a page that never comes still fails
    after HANG seconds."""
    return WebDriverWait(driver, HANG, ignored_exceptions=(WebDriverException,))


def until(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    """``condition``'s first truthy value; a hang fails with ``what`` was awaited."""
    return wait(driver).until(condition, f"waited {HANG:.0f} s for {what}")


def css(driver: WebDriver, selector: str) -> WebElement:
    """The element ``selector`` names, once it is in the page."""
    element: WebElement = until(
        driver, ec.presence_of_element_located((By.CSS_SELECTOR, selector)), selector
    )
    return element


def replaced(driver: WebDriver, act: Callable[[], object], what: str) -> None:
    """Do ``act`` (a click, a key press) and wait until the page it leads to has loaded
    in place of this one (form posts come back through a 303): the mark left in this
    page's window is gone and the new document is complete."""
    token = f"before-{next(_MARKS)}"
    mark(driver, token)
    act()

    def loaded(d: WebDriver) -> bool:
        return marked(d) != token and d.execute_script("return document.readyState") == "complete"

    until(driver, loaded, f"{what} to load")


def submit_and_wait(driver: WebDriver, button: WebElement) -> None:
    """Click ``button`` and wait until the page it leads to has loaded."""
    replaced(driver, button.click, f"the page after #{button.get_attribute('id')}")


def live(driver: WebDriver) -> None:
    """Wait until the page's event stream is open (``#live`` says "live")."""

    def is_live(d: WebDriver) -> bool:
        return d.find_element(By.ID, "live").text.strip().lower() == "live"

    until(driver, is_live, '#live to say "live" (the event stream open)')


def mark(driver: WebDriver, token: str) -> None:
    """Leave ``token`` in the page's window: a reload would lose it."""
    driver.execute_script("window.__mandaoMark = arguments[0];", token)


def marked(driver: WebDriver) -> str | None:
    """The token :func:`mark` left, None when the page was reloaded since."""
    value: str | None = driver.execute_script("return window.__mandaoMark || null;")
    return value


def glyphs(driver: WebDriver, element: WebElement, chars: list[str]) -> dict[str, Any]:
    """How each of ``chars`` is drawn in ``element``'s font stack (see ``_GLYPHS_JS``)."""
    found: dict[str, Any] = driver.execute_script(_GLYPHS_JS, element, chars)
    return found


def renders(driver: WebDriver, element: WebElement, a: str, b: str) -> dict[str, Any]:
    """Draw the different characters ``a`` and ``b`` beside :data:`NO_GLYPH`; the result's
    ``"ok"`` says both have real glyphs (each inks, unlike the other and unlike a box)."""
    found = glyphs(driver, element, [a, b, NO_GLYPH])
    same = found["same"]
    inked = found["ink"][0] > 0 and found["ink"][1] > 0
    found["ok"] = inked and not (same[0][1] or same[0][2] or same[1][2])
    return found


def overflow(driver: WebDriver) -> dict[str, int]:
    """The document's scroll width against its visible width (more = horizontal scroll)."""
    found: dict[str, int] = driver.execute_script(
        "const e = document.documentElement;"
        "return {scroll: e.scrollWidth, client: e.clientWidth, inner: window.innerWidth};"
    )
    return found


def phone(driver: WebDriver, width: int = 390, height: int = 844) -> None:
    """Show pages as a phone ``width`` CSS pixels wide would (through DevTools: a desktop
    window has a minimum width); :func:`desktop` undoes it."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )


def desktop(driver: WebDriver) -> None:
    """Undo :func:`phone`."""
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def tab_to(driver: WebDriver, element_id: str, limit: int = 100) -> int:
    """Press Tab from the top of the page until ``element_id`` has the focus; the presses
    it took. Fails when ``limit`` presses never reach it."""
    driver.execute_script("if (document.activeElement) { document.activeElement.blur(); }")
    visited = []
    for presses in range(1, limit + 1):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.execute_script(
            "const a = document.activeElement;return a ? (a.id || a.tagName.toLowerCase()) : null;"
        )
        if focused == element_id:
            return presses
        visited.append(focused)
    raise AssertionError(f"{limit} Tab presses never reached #{element_id}: {visited}")


def label_of(driver: WebDriver, element: WebElement) -> str:
    """The text of the ``<label>`` elements that label ``element`` ("" when none)."""
    text: str = driver.execute_script(
        "return Array.from(arguments[0].labels || []).map((l) => l.textContent.trim()).join(' ');",
        element,
    )
    return text
