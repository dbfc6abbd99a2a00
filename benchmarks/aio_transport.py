"""One-number send exchange: AioTransport (httpx, on the event loop) against SyncTransport.

The very same built ``mdsmssend`` request (one number) goes to a sandbox in another
process through each transport in turn, round by round, timed inside one running event
loop, as an AsyncClient's sends are (so the loop's own scheduling is counted, and no
``run_until_complete`` per call is). Medians of the interleaved rounds, and their ratio.
Informational: no target for the transport itself; the full ``AsyncClient`` against
``Client`` is to stay within 1.10 (issue 14), and this is the part of it the transport sets.

    python benchmarks/aio_transport.py [--rounds 2000] [--protocol soap11]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import mandao
from _common import PASSWORD, SN, report, sandbox_process
from mandao._config import Timeouts
from mandao._core.wire import Exchange, Response, Result
from mandao._operations import OPERATIONS, PROTOCOLS
from mandao._transports.aio import AioTransport
from mandao._transports.session import session
from mandao._transports.sync import SyncTransport

TEXT = "您的验证码是 123456，5 分钟内有效【示例】"
MOBILE = "13800138000"
SYNC, AIO = "requests SyncTransport", "httpx AioTransport"


def _answered(exchange: Exchange) -> None:
    assert isinstance(exchange, Response), exchange
    assert isinstance(exchange.body, Result), exchange
    assert exchange.status == 200, exchange
    assert not exchange.body.text.startswith("-"), exchange.body.text


async def measure(hosts: list[str], protocol: str, rounds: int) -> dict[str, float]:
    """Median seconds per exchange of each transport, the two alternating round by round."""
    client = mandao.Client(SN, PASSWORD, hosts=hosts, protocol=protocol, journal=None)
    planned = client._plan("group", ([MOBILE], TEXT), {}).requests[0]
    built = client._build(
        OPERATIONS[planned.operation], planned.fields, client._credentials.pwd("md5")
    )
    timeouts = Timeouts(5, 30)
    sync = SyncTransport(timeouts, session())
    aio = AioTransport(timeouts)
    host = hosts[0]

    async def by_aio() -> None:
        _answered(await aio.exchange(built, host))

    async def by_sync() -> None:
        _answered(sync.exchange(built, host))

    contenders = {SYNC: by_sync, AIO: by_aio}
    for call in contenders.values():  # connections open, caches warm
        for _ in range(50):
            await call()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    order = list(contenders.items())
    for turn in range(rounds):
        # Which goes first alternates, so neither always follows the other's leftovers.
        for name, call in order if turn % 2 else order[::-1]:
            start = time.perf_counter()
            await call()
            samples[name].append(time.perf_counter() - start)
    await aio.aclose()
    sync.session.close()
    return {name: statistics.median(times) for name, times in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="soap11")
    args = parser.parse_args()
    with sandbox_process() as (hosts, _):
        medians = asyncio.run(measure(hosts, args.protocol, args.rounds))
    report(
        f"one-number mdsmssend exchange over {args.protocol}, sandbox in another process "
        f"(median of {args.rounds}; informational, the AsyncClient's target is ≤ 1.10)",
        medians,
        base=SYNC,
        targets={},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
