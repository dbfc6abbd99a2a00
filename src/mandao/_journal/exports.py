"""Reading the journal out: exports for a lawful inquiry, and reconciling with a ledger.

Numbers are masked (``138****8000``) unless the caller asks for them whole (vendor terms,
item 9: customers' personal data stays confidential unless the law requires it).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO

from .attempt import Attempt
from .content import mask

if TYPE_CHECKING:
    from .journal import Journal

__all__ = ["FIELDS", "INBOUND", "export", "export_inbound", "rows"]

#: The columns of an export, in order: an :class:`~.attempt.Attempt`'s fields.
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Attempt) if f.name != "deliveries")


def rows(
    journal: Journal,
    *,
    unmask: bool = False,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    mobile: str | None = None,
    rrid: str | None = None,
    outcome: str | None = None,
    operation: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Attempts as export rows. With ``mobile``, each row lists that number only.

    Raises:
        ValidationError: ``since`` or ``until`` is not an ISO date or date-time.
        JournalError: the journal cannot be read.
    """
    for attempt in journal.attempts(
        since=since, until=until, mobile=mobile, rrid=rrid, outcome=outcome, operation=operation
    ):
        row = {name: getattr(attempt, name) for name in FIELDS}
        numbers, content = attempt.recipients, attempt.content
        if mobile is not None:
            numbers, content = (mobile,), attempt.text_for(mobile) or ""
        row["recipients"] = [n if unmask else mask(n) for n in numbers]
        row["content"] = content if isinstance(content, str) else list(content)
        row["resolution"] = None if attempt.resolution is None else asdict(attempt.resolution)
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
    ``outcome``, ``operation``. In CSV, recipients are joined by ``;`` and per-number
    texts are a JSON list.

    Raises:
        ValidationError: a filter is not valid (a time that is not ISO 8601).
        JournalError: the journal cannot be read.
    """
    count = 0
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in rows(journal, unmask=unmask, **filters):
        if writer is None:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            content, resolution = row["content"], row["resolution"]
            row["recipients"] = ";".join(row["recipients"])
            row["resolution"] = "" if resolution is None else json.dumps(resolution)
            row["content"] = (
                content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            )
            writer.writerow(row)
        count += 1
    return count


#: What else an export can hold, beside the attempts: each a table of its own.
INBOUND = ("replies", "reports", "suppressions")


def export_inbound(
    journal: Journal,
    out: TextIO,
    what: Literal["replies", "reports", "suppressions"],
    fmt: Literal["jsonl", "csv"] = "jsonl",
    *,
    unmask: bool = False,
    sn: str | None = None,
) -> int:
    """Write the journal's replies, delivery reports or suppression list to ``out`` (JSON
    Lines or CSV, numbers masked unless ``unmask``); return how many rows.

    Raises:
        JournalError: the journal cannot be read.
    """
    found: list[Any]
    if what == "replies":
        found = journal.replies(sn=sn)
    elif what == "reports":
        found = journal.reports(sn=sn)
    else:
        found = journal.suppressions(sn=sn)
    writer = None
    count = 0
    for item in found:
        row = {f.name: getattr(item, f.name) for f in fields(item)}
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = value.isoformat()
            elif hasattr(value, "value"):  # an enum: its value
                row[key] = value.value
        if not unmask and row.get("mobile"):
            row["mobile"] = mask(str(row["mobile"]))
            if "raw" in row:  # the raw line names the number too
                row["raw"] = str(row["raw"]).replace(str(item.mobile), row["mobile"])
        if fmt == "csv":
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
                writer.writeheader()
            writer.writerow(row)
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
