"""Make docs/images/inbox.png: the sandbox inbox as a person sees it.

Usage: ``python docs/images/make_inbox_screenshot.py [--out PATH]`` (from the repository,
with the test extras installed and Debian's chromium, chromium-driver and fonts-noto-cjk).

Starts a sandbox with its inbox on 127.0.0.1, sends a few messages through a real
``mandao.Client`` (Chinese text, a verification code, a long message billed in segments,
three numbers in one batch), has the handset reply to one of them, and takes two
screenshots with the browser tests' own Chromium setup (tests/browser/harness.py): the
message list at desktop width and the thread at a phone's 390 px. The browser then lays
the two side by side on a page of their own, and that is the picture saved.
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mandao

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SN, PASSWORD = "SDK-TST-010-00001", "s3cr3t-Pass"
SIGN = "【漫道测试】"
THREAD = "13800138000"
LIST_SIZE = (1100, 820)
PHONE_SIZE = (390, 820)

#: Two screenshots side by side, as PNG data URLs.
_SIDE_BY_SIDE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; padding: 16px; background: #d9dde3; display: flex; gap: 16px;
       align-items: flex-start; }}
img {{ display: block; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.25); }}
</style></head><body><img src="data:image/png;base64,{left}" alt="">
<img src="data:image/png;base64,{right}" alt=""></body></html>"""


def _send_some(client: mandao.Client) -> None:
    """The messages of the picture, oldest first."""
    client.send(["13900139000"], f"您的订单 20261125-7731 已发货，顺丰单号 SF1402233{SIGN}")
    client.send(
        ["13700137000", "13600136000", "13500135000"],
        f"双十一会员日：全场满 300 减 50，回复 TD 退订{SIGN}",
    )
    client.send(
        ["13900139000"],
        "尊敬的客户，您预约的维修服务已安排在 11 月 26 日（周三）上午 9:00 至 12:00，"
        "工程师将提前 30 分钟电话联系您。如需改期，请在服务开始前两小时回复本短信。"
        f"感谢您的耐心等待，祝您生活愉快{SIGN}",
    )
    client.send([THREAD], f"您的验证码是 482913，五分钟内有效，请勿告诉他人{SIGN}")


def main(argv: list[str] | None = None) -> int:
    """Make the picture; 1 (and why, on stderr) when the browser is not installed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "inbox.png")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))  # the browser tests' harness: one Chromium setup for both
    from tests.browser import harness, pages

    absent = harness.missing()
    if absent:
        print(f"needs {', '.join(absent)}: {harness.INSTALL}", file=sys.stderr)
        return 1

    from mandao.testing import SandboxGateway

    with (
        tempfile.TemporaryDirectory() as scratch,
        SandboxGateway(accounts={SN: PASSWORD}, inbox=True) as gateway,
        gateway.client(SN, PASSWORD) as client,
    ):
        _send_some(client)
        url = gateway.inbox_url
        if url is None:
            raise RuntimeError("SandboxGateway(inbox=True) runs, but has no inbox_url")
        driver = harness.chrome(*LIST_SIZE)
        try:
            gateway.reply(THREAD, "收到，谢谢！")
            client.send([THREAD], f"已收到您的回复，祝您生活愉快{SIGN}")
            driver.get(f"{url}threads/{THREAD}")
            pages.until(
                driver,
                lambda d: len(d.find_elements("css selector", "#thread .bubble")) == 3,
                "the thread's three bubbles",
            )
            pages.phone(driver, *PHONE_SIZE)
            driver.refresh()
            pages.css(driver, "#thread .bubble.reply")
            phone = driver.get_screenshot_as_base64()
            pages.desktop(driver)

            driver.get(url)
            pages.css(driver, f'#messages li.message[data-mobile="{THREAD}"]')
            listing = driver.get_screenshot_as_base64()

            side_by_side = Path(scratch) / "inbox.html"
            side_by_side.write_text(_SIDE_BY_SIDE.format(left=listing, right=phone), "utf-8")
            width = LIST_SIZE[0] + PHONE_SIZE[0] + 3 * 16
            harness.viewport(driver, width, max(LIST_SIZE[1], PHONE_SIZE[1]) + 2 * 16)
            driver.get(side_by_side.as_uri())
            pages.until(
                driver,
                lambda d: d.execute_script(
                    "return Array.from(document.images).every((i) => i.complete);"
                ),
                "the screenshots to be laid out",
            )
            png = driver.execute_cdp_cmd(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
            )
        finally:
            driver.quit()
    args.out.write_bytes(base64.b64decode(png["data"]))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
