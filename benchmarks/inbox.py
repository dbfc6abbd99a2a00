"""The sandbox inbox: its first page at 100,000 messages, and what it costs a send.

Usage: ``python benchmarks/inbox.py [--rounds N] [--sends N]``

(a) ``GET /`` of the inbox (the first page: 50 messages, the accounts and faults panels)
    over HTTP, with 100,000 messages in the ledger against 100: the page must not copy or
    scan the ledger, so the target is a ratio of 2 or less. Both gateways run in this
    process, filled through a real ``Client`` (one send of 100,000 numbers: 20 requests of
    5,000), with their delivery reports due, as a developer's sandbox has them.
(b) A one-number ``Client.send`` to a ``mandao sandbox`` child process with the inbox on
    and one event stream connected and reading (a child process of its own, as a browser
    is), against a sandbox child with ``--no-inbox``: target 1.10 or less. Both sandboxes
    hold 100,000 messages (and their 100,000 due delivery reports) before the first timed
    send, as a developer's sandbox does after a day: each message the stream writes
    looks up its status, and must read only the reports due since, not all of them.

Ratios are measured in one run, the contenders interleaved round by round (see
benchmarks/README.md); each figure is a median. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import mandao
from _common import PASSWORD, SN, interleaved, report
from mandao.testing import SandboxGateway

SRC = Path(__file__).resolve().parents[1] / "src"
FILLED = 100_000  # messages in each sandbox of (b) before the timed sends
_READER = r"""
import http.client, sys
host, port = sys.argv[1], int(sys.argv[2])
conn = http.client.HTTPConnection(host, port)
conn.request("GET", "/api/events")
response = conn.getresponse()
messages = 0
for line in response:
    if line.startswith(b": connected"):
        print("connected", flush=True)
    elif line.startswith(b"event: message"):
        messages += 1
print(messages, flush=True)
"""


def _filled(count: int) -> SandboxGateway:
    gw = SandboxGateway(
        accounts={SN: PASSWORD}, inbox=True, default_balance=10 * count + 1000
    ).start()
    with gw.client(SN, PASSWORD) as client:
        client.send([f"138{n:08d}" for n in range(count)], "验证码 482915，5分钟内有效【示例】")
    assert len(gw.ledger) == count
    return gw


def _getter(url: str) -> tuple[http.client.HTTPConnection, Callable[[], None]]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=30)

    def get() -> None:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200
        assert b'class="message"' in body

    return conn, get


def first_page(rounds: int) -> bool:
    """(a): GET / at 100,000 messages against 100."""
    small, big = _filled(100), _filled(100_000)
    try:
        small_conn, small_get = _getter(small.inbox_url or "")
        big_conn, big_get = _getter(big.inbox_url or "")
        for _ in range(5):  # warm up: templates compiled, reports released and indexed
            small_get()
            big_get()
        medians = interleaved(
            {"GET / at 100 messages": small_get, "GET / at 100,000 messages": big_get}, rounds
        )
        small_conn.close()
        big_conn.close()
    finally:
        small.stop()
        big.stop()
    return report(
        "(a) the inbox's first page over HTTP",
        medians,
        "GET / at 100 messages",
        {"GET / at 100,000 messages": 2.0},
    )


@contextmanager
def _sandbox(*extra: str) -> Iterator[dict[str, object]]:
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mandao.cli.sandbox", "--json", "--balance", "100000000", *extra],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    try:
        yield json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _fill(client: mandao.Client, count: int) -> None:
    """``count`` messages in the sandbox, in requests of 5,000 (its reports due at once)."""
    if count:
        result = client.send([f"139{n:08d}" for n in range(count)], "通知 482915【示例】")
        assert result.complete, result


def send_round_trip(sends: int, filled: int) -> bool:
    """(b): a send with the inbox open and streaming, against the inbox off, each sandbox
    holding ``filled`` messages first."""
    with _sandbox() as on, _sandbox("--no-inbox") as off:
        clients = {
            name: mandao.Client(
                sn=SN,
                password=PASSWORD,
                hosts=data["hosts"],  # type: ignore[arg-type]
                account_hosts=data["account_hosts"],  # type: ignore[arg-type]
                journal=None,
            )
            for name, data in (("inbox on, one stream reading", on), ("inbox off", off))
        }
        for client in clients.values():
            _fill(client, filled)
        parts = urlsplit(str(on["inbox"]))
        # The stream opens after the fill: it reads the timed sends (and the warm-up's).
        reader = subprocess.Popen(
            [sys.executable, "-c", _READER, parts.hostname or "", str(parts.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "connected"
        for client in clients.values():
            for _ in range(50):  # warm up: WSDL parsed, connections open
                client.send("13800138000", "验证码 482915【示例】")
        medians = interleaved(
            {
                name: (lambda c=client: c.send("13800138000", "验证码 482915【示例】"))
                for name, client in clients.items()
            },
            sends,
        )
        for client in clients.values():
            client.close()
    seen = int((reader.communicate(timeout=30)[0] or "0").strip() or 0)
    print(f"  (the stream read {seen} message events: every send to the inbox's sandbox)")
    assert seen == sends + 50, seen
    return report(
        f"(b) a one-number Client.send to a sandbox process holding {filled:,} messages",
        medians,
        "inbox off",
        {"inbox on, one stream reading": 1.10},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="GET / rounds for (a)")
    parser.add_argument("--sends", type=int, default=2000, help="sends per contender for (b)")
    parser.add_argument(
        "--filled", type=int, default=FILLED, help="messages in each sandbox before (b) times"
    )
    args = parser.parse_args()
    ok = first_page(args.rounds)
    ok &= send_round_trip(args.sends, args.filled)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
