"""Decoding replies: 100,000 different ``mo`` lines into ``Reply`` values, against a floor
of splitting each line and URL-decoding its GB2312 content (and keeping the text).

mandao's side does all a fetch's decoding does: lines split on CRLF, the first three
commas and the last one as separators, the mobile checked and normalised, the content
percent-decoded as GB2312 (GB18030 on failure), the time read as aware China time, the
extension cut from the receiving number, one frozen ``Reply`` per line kept in a tuple.
The floor keeps only the decoded texts, in a list.

No two lines are alike: each has its own moID, mobile and second, and the texts mix
pure Chinese, short ASCII (``TD``, ``1``) and Chinese with digits, as replies do. The
dates are the ``mo`` format's padded ones; the line "mandao, unpadded dates" shows the
same lines with ``RECSMS``'s .NET dates (``2024-3-1 8:00:00``), for information. Run:

    python benchmarks/inbound.py [--rounds 7]
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from urllib.parse import quote, unquote

from _common import interleaved, report
from mandao._inbound.replies import decode_replies

N = 100_000
SERVICE = "1065"
_CHINESE = ["好的", "收到，谢谢", "退订", "请问明天几点开门？", "没问题", "已付款，请尽快发货",
            "不需要了", "可以", "谢谢提醒", "我在开会，稍后回电"]  # fmt: skip
_ASCII = ["TD", "1", "ok", "N", "Y", "T", "R", "0000", "yes", "thanks"]


def _text(i: int) -> str:
    kind = i % 10
    if kind < 4:
        return _CHINESE[i % len(_CHINESE)]
    if kind < 7:
        return _ASCII[i % len(_ASCII)]
    return f"订单{i}已收到"


def _lines(padded: bool) -> str:
    start = datetime(2024, 3, 1, 8, 0, 0)
    lines = []
    for i in range(N):
        at = start + timedelta(seconds=i)
        when = (
            f"{at:%Y-%m-%d %H:%M:%S}"
            if padded
            else f"{at.year}-{at.month}-{at.day} {at.hour}:{at.minute:02d}:{at.second:02d}"
        )
        content = quote(_text(i), encoding="gb2312")
        lines.append(
            f"{90_000_000 + i},{SERVICE}{i % 1000:03d},1{3 + i % 7}{i:09d},{content},{when}"
        )
    return "\r\n".join(lines) + "\r\n"


def _floor(raw: str) -> int:
    texts = []
    for line in raw.split("\r\n"):
        if line:
            parts = line.split(",")
            texts.append(unquote(parts[3], encoding="gb2312", errors="strict"))
    return len(texts)


def _mandao(raw: str) -> int:
    decoded = decode_replies(raw, service_number=SERVICE)
    return len(decoded.items)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    padded, unpadded = _lines(True), _lines(False)
    decoded = decode_replies(padded, service_number=SERVICE)
    assert len(decoded.items) == N
    assert not decoded.unreadable
    assert len({r.raw for r in decoded.items}) == N  # no two alike
    assert _floor(padded) == N == _mandao(unpadded)
    medians = interleaved(
        {"mandao: 100k mo lines": lambda: _mandao(padded),
         "floor: split + unquote": lambda: _floor(padded),
         "mandao, unpadded dates": lambda: _mandao(unpadded)},
        args.rounds,
    )  # fmt: skip
    ok = report(
        "100,000 different mo lines into Reply values",
        medians,
        "floor: split + unquote",
        {"mandao: 100k mo lines": 2.0},
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
