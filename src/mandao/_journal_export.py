"""Reading the journal out: exports for a lawful inquiry, and reconciling with a ledger.

Numbers are masked (``138****8000``) unless the caller asks for them whole (vendor terms,
item 9: customers' personal data stays confidential unless the law requires it).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from ._journal import Journal
from ._journal_attempt import Attempt
from ._journal_hook import mask

__all__ = ["FIELDS", "Reconciliation", "export", "read_ledger", "reconcile", "rows"]

#: The columns of an export, in order.
FIELDS = (
    "seq", "time", "sn", "operation", "protocol", "host", "rrid", "recipients", "content",
    "segments", "call_id", "batch_index", "batch_total", "outcome", "result", "detail",
    "latency_ms", "completed", "pid",
)  # fmt: skip


def rows(
    journal: Journal,
    *,
    unmask: bool = False,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    mobile: str | None = None,
    rrid: str | None = None,
    outcome: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Attempts as export rows. With ``mobile``, each row lists that number only."""
    for attempt in journal.attempts(
        since=since, until=until, mobile=mobile, rrid=rrid, outcome=outcome
    ):
        row = {name: getattr(attempt, name) for name in FIELDS}
        numbers, content = attempt.recipients, attempt.content
        if mobile is not None:
            numbers, content = (mobile,), attempt.text_for(mobile) or ""
        row["recipients"] = [n if unmask else mask(n) for n in numbers]
        row["content"] = content if isinstance(content, str) else list(content)
        yield row


def export(
    journal: Journal,
    out: TextIO,
    fmt: Literal["jsonl", "csv"] = "jsonl",
    *,
    unmask: bool = False,
    **filters: Any,
) -> int:
    """Write attempts to ``out`` as JSON Lines or CSV; return how many.

    Filters: ``since``, ``until`` (naive times are China time), ``mobile``, ``rrid``,
    ``outcome``. In CSV, recipients are joined by ``;`` and per-number texts are a JSON list.
    """
    count = 0
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in rows(journal, unmask=unmask, **filters):
        if writer is None:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            content = row["content"]
            row["recipients"] = ";".join(row["recipients"])
            row["content"] = (
                content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            )
            writer.writerow(row)
        count += 1
    return count


@dataclass(frozen=True)
class Reconciliation:
    """Pending (or unknown) attempts held against a record of what the gateway accepted.

    Attributes:
        sent: ``(attempt, mobile)`` the record shows as accepted.
        absent: ``(attempt, mobile)`` the record does not show: not sent if the record is
            complete (the sandbox's ledger), otherwise not known (reports may lag).
        unjournaled: ``(rrid, mobile)`` in the record with no attempt in the journal.
    """

    sent: list[tuple[Attempt, str]] = field(default_factory=list)
    absent: list[tuple[Attempt, str]] = field(default_factory=list)
    unjournaled: list[tuple[str, str]] = field(default_factory=list)


def reconcile(
    journal: Journal, accepted: Iterable[tuple[str, str]], *, sn: str | None = None
) -> Reconciliation:
    """Hold every attempt whose outcome is ``pending`` or ``unknown`` against ``accepted``,
    the ``(rrid, mobile)`` pairs the gateway took (a ledger, or the gateway's reports)."""
    known = set(accepted)
    result = Reconciliation()
    journaled: set[tuple[str, str]] = set()
    for attempt in journal.attempts(sn=sn, operation=("mdsmssend", "mdgxsend")):
        pairs = [(attempt.rrid, number) for number in attempt.recipients]
        journaled.update(pairs)
        if attempt.outcome not in ("pending", "unknown"):
            continue
        for pair in pairs:
            (result.sent if pair in known else result.absent).append((attempt, pair[1]))
    result.unjournaled.extend(sorted(known - journaled))
    return result


def read_ledger(path: str | Path) -> list[tuple[str, str]]:
    """``(rrid, mobile)`` pairs from a file: the sandbox ledger's JSON (``gw.ledger.export``),
    JSON Lines, or CSV, each with ``rrid`` and ``mobile`` fields."""
    source = Path(path)
    text = source.read_text(encoding="utf-8")
    items: list[dict[str, Any]]
    if source.suffix.lower() == ".csv":
        items = list(csv.DictReader(text.splitlines()))
    else:
        try:
            whole = json.loads(text)
        except ValueError:
            whole = None
        if isinstance(whole, dict) and "messages" in whole:
            items = whole["messages"]
        elif isinstance(whole, list):
            items = whole
        else:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [(str(item["rrid"]), str(item["mobile"])) for item in items]
