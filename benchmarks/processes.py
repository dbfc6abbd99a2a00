"""The cost of sharing a serial across processes: one SQLite journal, its admission board.

Four sender processes, each with its own ``Client(max_in_flight=4)`` on one journal file
(so no send waits for a slot; the sandbox account allows 4 in flight), against one sender
process alone, and against four processes with a journal each (nothing shared, the same
load on the machine's cores). Per-send medians over rounds interleaved in one run; the
sandbox runs in another process. Run:

    python benchmarks/processes.py [--rounds 9] [--sends 150]

The issue's ratio is "4 sharing / 1 alone". On a machine with fewer cores than four
senders and a sandbox, that ratio also counts the senders' fight for the cores; "4
sharing / 4 apart" counts the sharing alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import PASSWORD, SN, sandbox_process

WORKER = r"""
import json, sys, time, mandao
hosts, account_hosts, journal, tag = sys.argv[1:5]
client = mandao.Client(
    sys.argv[5], sys.argv[6], hosts=json.loads(hosts), account_hosts=json.loads(account_hosts),
    journal=journal, max_in_flight=4,
)
for i in range(30):
    client.send(f"1380{tag}{i:06d}", "预热【示例】")
print("ready", flush=True)
n = 0
for line in sys.stdin:
    times = []
    for _ in range(int(line)):
        n += 1
        start = time.perf_counter()
        client.send(f"139{tag}{n:07d}", "您的验证码是 123456【示例】")
        times.append(time.perf_counter() - start)
    print(json.dumps(times), flush=True)
"""


def _worker(
    hosts: list[str], accounts: list[str], journal: Path, tag: int
) -> subprocess.Popen[str]:
    args = [json.dumps(hosts), json.dumps(accounts), str(journal), str(tag), SN, PASSWORD]
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _round(workers: list[subprocess.Popen[str]], sends: int) -> list[float]:
    for proc in workers:
        assert proc.stdin is not None
        proc.stdin.write(f"{sends}\n")
        proc.stdin.flush()
    times: list[float] = []
    for proc in workers:
        assert proc.stdout is not None
        times += json.loads(proc.stdout.readline())
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--sends", type=int, default=150, help="sends per process per round")
    args = parser.parse_args()
    with sandbox_process("--max-in-flight", "4") as (hosts, accounts), \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        folder = Path(tmp)
        shared = [_worker(hosts, accounts, folder / "shared.sqlite3", n) for n in range(4)]
        apart = [_worker(hosts, accounts, folder / f"own-{n}.sqlite3", 4 + n) for n in range(4)]
        times: dict[str, list[float]] = {"1 alone": [], "4 sharing": [], "4 apart": []}
        try:
            for _ in range(args.rounds):
                times["1 alone"] += _round(shared[:1], args.sends)
                times["4 sharing"] += _round(shared, args.sends)
                times["4 apart"] += _round(apart, args.sends)
        finally:
            for proc in shared + apart:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(30)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"one-number Client.send, journal on, per-send median of {len(times['1 alone'])}")
    for name, value in medians.items():
        print(f"  {name:<12} {value * 1000:7.3f} ms")
    alone = medians["4 sharing"] / medians["1 alone"]
    apart_ratio = medians["4 sharing"] / medians["4 apart"]
    verdict = "met" if alone <= 1.15 else "MISSED"
    print(f"  4 sharing / 1 alone   {alone:.3f}   target ≤ 1.15: {verdict}")
    print(f"  4 sharing / 4 apart   {apart_ratio:.3f}   (the sharing alone)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
