"""Attempts of unknown outcome held against a record of what the gateway accepted."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from .._errors import ValidationError
from .attempt import Attempt

__all__ = ["SETTLE_AFTER", "Reconciliation", "read_ledger", "reconcile"]

#: How old an attempt must be before a record without it may call it not sent: until
#: then it may be in flight, or still at work at the gateway after its read timed out.
SETTLE_AFTER = timedelta(minutes=10)


class _Attempts(Protocol):
    """What reconciling reads: a :class:`~.journal.Journal` (kept abstract: no import cycle)."""

    def attempts(
        self, *, sn: str | None = ..., operation: str | Sequence[str] | None = ...
    ) -> Iterator[Attempt]: ...


@dataclass(frozen=True)
class Reconciliation:
    """Pending (or unknown) attempts held against a record of what the gateway accepted.

    Attributes:
        sent: ``(attempt, mobile)`` the record shows as accepted.
        absent: ``(attempt, mobile)`` the record does not show: not sent if the record is
            complete (the sandbox's ledger), otherwise not known (reports may lag).
        recent: ``(attempt, mobile)`` the record does not show, of attempts younger than
            ``settle_after``: not known even from a complete record (the request may be in
            flight, or at work at the gateway after its read timed out).
        unjournaled: ``(rrid, mobile)`` in the record with no attempt in the journal.
    """

    sent: list[tuple[Attempt, str]] = field(default_factory=list)
    absent: list[tuple[Attempt, str]] = field(default_factory=list)
    unjournaled: list[tuple[str, str]] = field(default_factory=list)
    recent: list[tuple[Attempt, str]] = field(default_factory=list)


def reconcile(
    journal: _Attempts,
    accepted: Iterable[tuple[str, str]],
    *,
    sn: str | None = None,
    settle_after: timedelta = SETTLE_AFTER,
) -> Reconciliation:
    """Hold every attempt whose outcome is ``pending`` or ``unknown``, and not resolved
    since, against ``accepted``, the ``(rrid, mobile)`` pairs the gateway took (a ledger,
    or the gateway's reports); one younger than ``settle_after`` that the record lacks is
    ``recent``, not ``absent``.

    The public way is :meth:`Journal.reconcile <mandao.Journal.reconcile>`.
    """
    known = set(accepted)
    result = Reconciliation()
    journaled: set[tuple[str, str]] = set()
    settled_before = datetime.now(UTC) - settle_after
    for attempt in journal.attempts(sn=sn, operation=("mdsmssend", "mdgxsend")):
        pairs = [(attempt.rrid, number) for number in attempt.recipients]
        journaled.update(pairs)
        if attempt.outcome not in ("pending", "unknown") or attempt.resolution is not None:
            continue
        lacking = result.absent
        if datetime.fromisoformat(attempt.time) > settled_before:
            lacking = result.recent
        for pair in pairs:
            (result.sent if pair in known else lacking).append((attempt, pair[1]))
    result.unjournaled.extend(sorted(known - journaled))
    return result


def read_ledger(path: str | Path) -> list[tuple[str, str]]:
    """``(rrid, mobile)`` pairs from a file: the sandbox ledger's JSON (``gw.ledger.export``),
    its JSON Lines (``SandboxGateway(ledger_path=...)``, ``mandao sandbox --ledger
    x.jsonl``), other JSON Lines, or CSV, each item with ``rrid`` and ``mobile`` fields.

    In the sandbox's JSON Lines only the ``"kind": "message"`` lines are messages (its
    ``started`` lines, rejections, faults, replies and clears are not); a line without
    ``kind`` is one. A last line cut short (a sandbox killed while writing it, even inside
    a UTF-8 character) is left out: it was never whole, and the lines before it are. So a
    file whose only line is cut short holds no pair yet (``[]``).

    Raises:
        ValidationError: the file cannot be read, or is none of those.
    """
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {source}: {exc}", argument="ledger") from exc
    try:
        items = _items(source, data)
        return [
            (str(item["rrid"]), str(item["mobile"]))
            for item in items
            if item.get("kind", "message") == "message"
        ]
    except UnicodeDecodeError as exc:
        raise ValidationError(f"cannot read {source}: {exc}", argument="ledger") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(
            f"{source} is not a ledger ({type(exc).__name__}: {exc}): give the sandbox "
            "ledger's JSON, JSON Lines or CSV, each item with rrid and mobile",
            argument="ledger",
        ) from exc


def _items(source: Path, data: bytes) -> list[dict[str, Any]]:
    if source.suffix.lower() == ".csv":
        return list(csv.DictReader(data.decode("utf-8").splitlines()))
    try:
        whole = json.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError too: a JSON Lines file cut inside a character
        whole = None
    if isinstance(whole, dict) and "messages" in whole:
        return list(whole["messages"])
    if isinstance(whole, list):
        return whole
    # JSON Lines. What follows the last newline is a line cut short (unless it is whole
    # JSON: a file written without a final newline), dropped before decoding, as bytes: the
    # cut may fall inside a UTF-8 character.
    end = data.rfind(b"\n") + 1
    lines = data[:end].decode("utf-8").split("\n")
    items = [json.loads(line) for line in lines if line.strip()]
    cut = data[end:]
    if cut.strip():
        try:
            items.append(json.loads(cut.decode("utf-8")))
        except ValueError:
            if not items and not cut.lstrip().startswith(b"{"):
                raise  # one line, not even the start of a JSON object: no ledger at all
    return items
