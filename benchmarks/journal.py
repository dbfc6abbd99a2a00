"""The send journal's cost, and many writers on one journal.

`sends` (default): the same client with the journal on and off, interleaved in one run,
against a sandbox in another process: one-number sends (target ≤ 1.15x) and
5,000-number batches (target ≤ 1.05x).

`writers`: N processes x M one-number sends, with random faults, to a sandbox in this
process, all journaling to one file; then every journal row is checked against the
sandbox's ledger and the chain is verified.

    python benchmarks/journal.py [sends] [--rounds 1000] [--batch-rounds 60]
    python benchmarks/journal.py writers [--processes 8] [--sends 1000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mandao
from _common import PASSWORD, SN, interleaved, report, sandbox_process
from mandao.testing import SandboxGateway

TEXT = "您的验证码是 123456，5 分钟内有效【示例】"
MOBILE = "13800138000"
BATCH = [f"139{i:08d}" for i in range(5000)]


def sends(args: argparse.Namespace) -> bool:
    folder = Path(tempfile.mkdtemp(prefix="mandao-journal-bench-"))
    counter = itertools.count()
    with sandbox_process("--balance", str(10**12)) as (hosts, account_hosts):
        on = mandao.Client(
            SN, PASSWORD, hosts=hosts, account_hosts=account_hosts, journal=folder / "j.sqlite3"
        )
        off = mandao.Client(SN, PASSWORD, hosts=hosts, account_hosts=account_hosts, journal=None)
        for client in (on, off):  # connections open, WSDL parsed, the journal file made
            for _ in range(20):
                client.send(MOBILE, TEXT)
        one = interleaved(
            {
                "journal off": lambda: off.send(MOBILE, TEXT),
                "journal on": lambda: on.send(MOBILE, TEXT),
            },
            args.rounds,
        )
        ok = report(
            f"one-number mdsmssend, median of {args.rounds}", one, "journal off",
            {"journal on": 1.15},
        )  # fmt: skip
        many = interleaved(
            {
                "journal off": lambda: off.send(BATCH, f"通知 {next(counter)}【示例】"),
                "journal on": lambda: on.send(BATCH, f"通知 {next(counter)}【示例】"),
            },
            args.batch_rounds,
        )
        ok &= report(
            f"5,000-number mdsmssend, median of {args.batch_rounds}", many, "journal off",
            {"journal on": 1.05},
        )  # fmt: skip
        assert on.journal is not None
        check = on.journal.verify()
        print(f"journal: {check.rows} rows, verify ok={check.ok}, {on.journal.path}")
    return ok and check.ok


CHILD = r"""
import json, sys, mandao
hosts, account_hosts, path, count, tag = sys.argv[1:6]
client = mandao.Client("SDK-TST-010-00001", "secret", hosts=json.loads(hosts),
                       account_hosts=json.loads(account_hosts), journal=path, timeout=(2, 10))
outcomes = {}
for i in range(int(count)):
    try:
        client.send(f"13{int(tag):03d}{i:06d}", f"通知 {tag}-{i}【示例】")
        kind = "sent"
    except mandao.MandaoError as exc:
        kind = type(exc).__name__
    outcomes[kind] = outcomes.get(kind, 0) + 1
print(json.dumps(outcomes))
"""


def writers(args: argparse.Namespace) -> bool:
    path = Path(tempfile.mkdtemp(prefix="mandao-journal-writers-")) / "j.sqlite3"
    with SandboxGateway(accounts={SN: PASSWORD}, default_balance=10**9) as gw:
        for n, kind in enumerate(("drop-after", "http-error", "drop-before", "malformed-xml")):
            gw.primary.fail(kind, probability=0.01, seed=n)
        start = time.perf_counter()
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    json.dumps(gw.hosts),
                    json.dumps(gw.account_hosts),
                    str(path),
                    str(args.sends),
                    str(n),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(args.processes)
        ]
        totals: dict[str, int] = {}
        for child in children:
            out, _ = child.communicate()
            for kind, count in json.loads(out.strip().splitlines()[-1]).items():
                totals[kind] = totals.get(kind, 0) + count
        elapsed = time.perf_counter() - start
        journal = mandao.Journal(path)
        check = journal.verify()
        ledger = {(m.rrid, m.mobile) for m in gw.ledger.messages}
        attempts = list(journal.attempts())
        accepted = {(a.rrid, n) for a in attempts if a.outcome == "accepted" for n in a.recipients}
        result = journal.reconcile(ledger)
        print(f"{args.processes} processes x {args.sends} sends in {elapsed:.1f}s: {totals}")
        print(f"faults fired: {len(gw.ledger.faults)}; ledger messages: {len(ledger)}; "
              f"journal attempts: {len(attempts)}, rows: {check.rows}")  # fmt: skip
        print(f"accepted attempts all in the ledger: {accepted <= ledger}; ledger messages "
              f"with no journal row: {len(result.unjournaled)}; unknown outcomes: "
              f"{len(result.sent)} in the ledger, {len(result.absent)} not; pending: "
              f"{len(journal.pending())}; verify ok: {check.ok}")  # fmt: skip
        return check.ok and accepted <= ledger and not result.unjournaled


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["sends", "writers"], default="sends")
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--batch-rounds", type=int, default=60)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--sends", type=int, default=1000)
    args = parser.parse_args()
    ok = sends(args) if args.mode == "sends" else writers(args)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
