"""The serial's queue wastes no time: 8 threads through one slot against one thread alone.

With ``max_in_flight=1`` (the gateway's default rule) a serial's requests go one at a
time, so 8 threads cannot send faster than one: the target is that they are not slower,
i.e. their throughput is at least 0.9 of ``1 / median`` of a single thread's
``Client.send`` (journal on), measured in the same run, rounds interleaved. The sandbox
runs in another process. Run:

    python benchmarks/serial_queue.py [--rounds 15] [--sends 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import mandao
from _common import PASSWORD, SN, sandbox_process

TEXT = "您的验证码是 123456，5 分钟内有效【示例】"
THREADS = 8


def _sender(client: mandao.Client, sends: int) -> None:
    for _ in range(sends):
        client.send("13800138000", TEXT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sends", type=int, default=200, help="sends per round")
    args = parser.parse_args()
    with sandbox_process() as (hosts, account_hosts), tempfile.TemporaryDirectory() as tmp:
        client = mandao.Client(
            SN, PASSWORD, hosts=hosts, account_hosts=account_hosts, journal=Path(tmp) / "j"
        )
        for _ in range(50):
            client.send("13800138000", TEXT)
        singles: list[float] = []
        rates: list[float] = []
        for _ in range(args.rounds):
            for _ in range(args.sends // 4):
                start = time.perf_counter()
                client.send("13800138000", TEXT)
                singles.append(time.perf_counter() - start)
            each = args.sends // THREADS
            threads = [
                threading.Thread(target=_sender, args=(client, each)) for _ in range(THREADS)
            ]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rates.append(each * THREADS / (time.perf_counter() - start))
    single = statistics.median(singles)
    rate = statistics.median(rates)
    ratio = rate * single
    ok = ratio >= 0.9
    print(f"one slot (max_in_flight=1), sandbox in another process ({args.rounds} rounds)")
    print(f"  one thread, median send        {single * 1000:9.3f} ms   = {1 / single:7.1f} /s")
    print(f"  {THREADS} threads, median throughput  {rate:16.1f} /s")
    print(f"  ratio {ratio:5.3f}  target ≥ 0.90: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
