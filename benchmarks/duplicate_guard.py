"""The duplicate guard's cost: on against off, in one run, to a sandbox in another process.

`mdgxsend`: a 1,000-pair personalised send with 100,000 journaled attempts in the window
(each journal made alike beforehand), guard on against off (target ≤ 1.10x).
`send-file`: a 30,000-row personalised campaign through the command line (in this
process), each run on a new journal, guard on against `--no-duplicate-guard`
(target ≤ 1.5x).

    python benchmarks/duplicate_guard.py [--rounds 30] [--file-rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

import mandao
from _common import PASSWORD, SN, interleaved, report, sandbox_process
from mandao._journal import chain
from mandao.cli import main

WINDOW = timedelta(hours=1)
PAIRS = 1000
JOURNALED = 100_000
FILE_ROWS = 30_000


def _journal_with_attempts(path: Path, count: int) -> None:
    """``count`` one-number attempts, accepted, written now (in the window), in one go."""
    journal = mandao.Journal(path)
    journal.verify()  # created
    conn = journal._database.connection()  # type: ignore[attr-defined]  # SQLite only
    for start in range(0, count, 10_000):
        rows: list[dict[str, object]] = []
        conn.execute("BEGIN IMMEDIATE")
        head = chain.head_of(conn)
        for i in range(start, min(count, start + 10_000)):
            seq = head[0] + 2 * (i - start) + 1
            rows.append({"kind": "attempt", "sn": SN, "operation": "mdsmssend", "protocol": "soap",
                         "host": "http://127.0.0.1/", "rrid": str(i), "recipients": f"137{i:08d}",
                         "content": f"验证码 {i:06d}【示例】", "segments": 1, "call_id": f"1-{i}",
                         "batch_index": 0, "batch_total": 1, "outcome": "pending"})  # fmt: skip
            rows.append({"kind": "outcome", "attempt": seq, "outcome": "accepted",
                         "result": str(i), "detail": "", "latency_ms": 1.0})  # fmt: skip
        chain.insert_rows(conn, *rows)
        conn.execute("COMMIT")
    journal.close()


def personalised(args: argparse.Namespace, folder: Path) -> bool:
    base = folder / "base.sqlite3"
    _journal_with_attempts(base, JOURNALED)
    for name in ("on", "off"):
        shutil.copy(base, folder / f"{name}.sqlite3")
    counter = itertools.count()
    numbers = [f"139{i:08d}" for i in range(PAIRS)]
    with sandbox_process("--balance", str(10**12)) as (hosts, account_hosts):
        guard = mandao.DuplicateGuard(window=WINDOW, action="skip")
        on = mandao.Client(SN, PASSWORD, hosts=hosts, account_hosts=account_hosts,
                           journal=folder / "on.sqlite3", duplicate_guard=guard)  # fmt: skip
        off = mandao.Client(SN, PASSWORD, hosts=hosts, account_hosts=account_hosts,
                            journal=folder / "off.sqlite3")  # fmt: skip

        def send(client: mandao.Client) -> None:
            n = next(counter)
            client.send_personalized({m: f"尊敬的客户 {m[-4:]}，第 {n} 期账单已出【示例】"
                                      for m in numbers})  # fmt: skip

        for client in (on, off):  # connections, WSDL; the guard's first look indexes 100,000
            for _ in range(3):
                send(client)
        medians = interleaved({"guard off": lambda: send(off), "guard on": lambda: send(on)},
                              args.rounds)  # fmt: skip
    return report(
        f"{PAIRS}-pair mdgxsend, {JOURNALED:,} attempts in the window, median of "
        f"{args.rounds}", medians, "guard off", {"guard on": 1.10},
    )  # fmt: skip


def campaign(args: argparse.Namespace, folder: Path) -> bool:
    rows = folder / "campaign.csv"
    with rows.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["mobile", "content"])
        for i in range(FILE_ROWS):
            writer.writerow([f"13{i:09d}", f"尊敬的客户 {i}，您的快递已到【示例】"])
    runs = itertools.count()
    with sandbox_process("--balance", str(10**12)) as (hosts, account_hosts):
        env = {"MANDAO_SN": SN, "MANDAO_PASSWORD": PASSWORD, "MANDAO_HOSTS": ",".join(hosts),
               "MANDAO_ACCOUNT_HOSTS": ",".join(account_hosts),
               "MANDAO_TIMEOUT": "5,60"}  # fmt: skip

        def send_file(journal: Path, *flags: str) -> None:
            result = CliRunner().invoke(
                main, ["send-file", str(rows), "--yes", "--json", *flags],
                env={**env, "MANDAO_JOURNAL": str(journal)},
            )  # fmt: skip
            assert result.exit_code == 0, result.output

        def fresh() -> Path:
            return folder / f"campaign-{next(runs)}.sqlite3"

        medians = interleaved(
            {"guard off": lambda path: send_file(path, "--no-duplicate-guard"),
             "guard on": lambda path: send_file(path)},
            args.file_rounds,
            setup={"guard off": fresh, "guard on": fresh},
        )  # fmt: skip
    return report(
        f"send-file of {FILE_ROWS:,} personalised rows, a new journal each, median of "
        f"{args.file_rounds}", medians, "guard off", {"guard on": 1.5},
    )  # fmt: skip


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--file-rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mandao-guard-bench-"))
    try:
        ok = personalised(args, folder)
        ok &= campaign(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main_())
