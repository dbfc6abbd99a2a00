"""Storing delivery reports: 100,000 reports matched to their journaled recipients, against
the same rows stored unmatched (rrids no attempt has), in one run (target ≤ 2x).

Each round stores into a copy of one journal holding 20 accepted attempts of 5,000
recipients each (the sends the reports belong to); matching is one query for the rrids,
each attempt's recipients split once, a set lookup per report, and the resolution of
attempts of unknown outcome (one of the 20 is unknown, so that path is timed too).

Then reports of many rrids, one each, in a journal of 20,000 one-number attempts: 1,000
of rrids no attempt has (sends from another system, or pruned), against 1,000 matched to
1,000 of the attempts (target ≤ 2x). An rrid not found is looked for in the lists of
per-number rrids once for all of them, not once each.

    python benchmarks/reports_store.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from _common import SN, interleaved, report
from mandao import Journal
from mandao._inbound.decoded import Decoded
from mandao._inbound.reports import DeliveryClass, Report

REPORTS = 100_000
ATTEMPTS = 20
CHINA = timezone(timedelta(hours=8))


def _numbers(attempt: int) -> list[str]:
    per = REPORTS // ATTEMPTS
    return [f"13{(attempt * per + i):09d}" for i in range(per)]


def _journal(path: Path) -> None:
    with Journal(path) as journal:
        for attempt in range(ATTEMPTS):
            seq = journal.begin(sn=SN, operation="mdsmssend", host="h", rrid=f"9{attempt:05d}",
                                recipients=_numbers(attempt), content="通知【示例】")  # fmt: skip
            journal.complete(seq, "unknown" if attempt == 0 else "accepted", result="")


def _reports(prefix: str) -> Decoded[Report]:
    at = datetime(2026, 12, 1, 9, 30, tzinfo=CHINA)
    items = []
    for attempt in range(ATTEMPTS):
        rrid = f"{prefix}{attempt:05d}"
        for i, mobile in enumerate(_numbers(attempt)):
            status = "DELIVRD" if i % 10 else "UNDELIV"
            outcome = DeliveryClass.DELIVERED if i % 10 else DeliveryClass.FAILED
            report_id = str(attempt * 10_000 + i + 1)
            raw = f"{report_id},{rrid},{mobile},{status},2026-12-1 9:30:00"
            items.append(Report(rrid, mobile, status, outcome, at, report_id, raw))
    return Decoded(tuple(items), ())


def _copies(base: Path) -> Callable[[], Journal]:
    """A fresh copy of the journal at ``base`` a call, beside it."""
    made = iter(range(10**6))

    def fresh() -> Journal:
        path = base.with_name(f"{base.stem}-{next(made)}.sqlite3")
        shutil.copyfile(base, path)
        return Journal(path)

    return fresh


def _store(
    decoded: Decoded[Report], expected: int, moved: tuple[str, str] | None
) -> Callable[[Journal], None]:
    """Store ``decoded`` as one fetch, checking that ``expected`` reports were matched."""

    def run(journal: Journal) -> None:
        inbound = journal._keep(SN, "report", "(benchmark)")
        _, stored = journal._store_reports(inbound, SN, decoded, moved)
        assert stored.matched == expected, (stored.matched, expected)
        journal.close()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    base = folder / "base.sqlite3"
    _journal(base)
    matched, unmatched = _reports("9"), _reports("8")  # "8....": no attempt has these rrids
    fresh, moved = _copies(base), ("report:" + SN, "1")
    medians = interleaved(
        {"unmatched": _store(unmatched, 0, moved), "matched": _store(matched, REPORTS, moved)},
        args.rounds,
        setup={"unmatched": fresh, "matched": fresh},
    )
    ok = report(f"storing {REPORTS:,} reports, matched against unmatched", medians, "unmatched",
                {"matched": 2.0})  # fmt: skip
    ok &= _many_rrids(folder, args.rounds)
    shutil.rmtree(folder)
    raise SystemExit(0 if ok else 1)


def _many_rrids(folder: Path, rounds: int) -> bool:
    base = folder / "many.sqlite3"
    with Journal(base) as journal:
        for n in range(20_000):
            seq = journal.begin(sn=SN, operation="mdsmssend", host="h", rrid=f"7{n:08d}",
                                recipients=[f"139{n:08d}"], content="通知【示例】")  # fmt: skip
            journal.complete(seq, "accepted", result="")
    at = datetime(2026, 12, 1, 9, 30, tzinfo=CHINA)

    def reports(prefix: str) -> Decoded[Report]:
        items = tuple(
            Report(f"{prefix}{n:08d}", f"139{n:08d}", "DELIVRD", DeliveryClass.DELIVERED, at,
                   str(n + 1), f"{n + 1},{prefix}{n:08d},139{n:08d},DELIVRD")
            for n in range(1000)
        )  # fmt: skip
        return Decoded(items, ())

    known, unknown = reports("7"), reports("6")  # "6...": no attempt has these rrids
    fresh = _copies(base)
    medians = interleaved(
        {"matched": _store(known, 1000, None), "rrids not journaled": _store(unknown, 0, None)},
        rounds,
        setup={"matched": fresh, "rrids not journaled": fresh},
    )
    return report("1,000 reports of 1,000 rrids, 20,000 attempts journaled", medians, "matched",
                  {"rrids not journaled": 2.0})  # fmt: skip


if __name__ == "__main__":
    main()
