"""The journal in PostgreSQL against the journal in SQLite: a one-number send.

Two clients of one sandbox (in another process), interleaved round by round: one
journals to an SQLite file, the other to a PostgreSQL database on a throwaway cluster
of its own (Debian's server, started as the tests start it: `mandao.testing._postgres`,
on a Unix socket). Each keeps its default durability: SQLite's WAL with
`synchronous=NORMAL`, PostgreSQL's `synchronous_commit=on` with `fsync` on (the server's
defaults, nothing turned down). Everything the client does for the journal's backend is
measured with it (the pending row, the outcome row, and the serial's shared admission
state, which lives where the journal does). Target: ≤ 2.0.

Shown too, for information: the journal alone, one attempt's two rows (`begin` and
`complete`, each committed), on each backend.

    python benchmarks/journal_postgresql.py [--rounds 1000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import mandao
from _common import PASSWORD, SN, interleaved, report, sandbox_process
from mandao.testing._postgres import Cluster, programs

TEXT = "您的验证码是 123456，5 分钟内有效【示例】"
MOBILE = "13800138000"


def _pair(journal: mandao.Journal | None) -> None:
    assert journal is not None
    seq = journal.begin(sn=SN, operation="mdsmssend", host="h", recipients=[MOBILE], content=TEXT)
    journal.complete(seq, "accepted", result="1", latency=0.001)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    if programs() is None:
        print("no PostgreSQL server in /usr/lib/postgresql/*/bin: apt-get install postgresql")
        return 1
    with (
        Cluster() as cluster,
        sandbox_process("--balance", str(10**12)) as (hosts, account_hosts),
        tempfile.TemporaryDirectory() as tmp,
    ):
        url = cluster.create_database("bench")
        lite = mandao.Client(
            SN, PASSWORD, hosts=hosts, account_hosts=account_hosts, journal=Path(tmp) / "j.sqlite3"
        )
        pg = mandao.Client(SN, PASSWORD, hosts=hosts, account_hosts=account_hosts, journal=url)
        for client in (lite, pg):  # connections open, WSDL parsed, the journals made
            for _ in range(50):
                client.send(MOBILE, TEXT)
        medians = interleaved(
            {
                "SQLite journal": lambda: lite.send(MOBILE, TEXT),
                "PostgreSQL journal": lambda: pg.send(MOBILE, TEXT),
            },
            args.rounds,
        )
        rows = interleaved(
            {
                "SQLite journal": lambda: _pair(lite.journal),
                "PostgreSQL journal": lambda: _pair(pg.journal),
            },
            args.rounds,
        )
        for client in (lite, pg):
            journal = client.journal
            assert journal is not None
            check = journal.verify()
            assert check.ok, check.problem
            print(f"journal: {check.rows} rows, verify ok, {journal.label}")
            journal.close()
            client.close()
    ok = report(
        f"one-number mdsmssend, each journal at its default durability (median of {args.rounds})",
        medians,
        base="SQLite journal",
        targets={"PostgreSQL journal": 2.0},
    )
    report("the journal alone: begin + complete, two commits (for information)", rows,
           base="SQLite journal", targets={})  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
