"""The ledger: ground truth for "nothing lost, nothing doubled".

One ``LedgerEntry`` per accepted message per recipient, one ``Rejection`` per request the
gateway answered with a negative code, one ``FaultEvent`` per injected fault. Thread-safe:
connection threads append while a test reads.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["FaultEvent", "Ledger", "LedgerEntry", "Rejection"]


@dataclass(frozen=True)
class LedgerEntry:
    """One message the gateway accepted for one recipient.

    ``content`` is the decoded text the handset would show; ``rrid`` is the rrid given, or
    the one the gateway made when none was; ``id`` is what the call returned; ``host`` is
    the send URL of the host that took it; ``scheduled`` is True when ``stime`` put it in the
    future (recorded, not delivered); ``segments`` is what it was billed.
    """

    sn: str
    mobile: str
    content: str
    host: str
    protocol: str
    operation: str
    rrid: str
    id: str
    ext: str
    stime: str
    scheduled: bool
    time: datetime
    segments: int


@dataclass(frozen=True)
class Rejection:
    """One request the gateway answered with a negative code (nothing charged or recorded).

    ``host`` is the URL of the service called; ``forced`` marks a code injected by a fault.
    """

    code: str
    operation: str
    sn: str
    host: str
    protocol: str
    time: datetime
    mobile: str = ""
    rrid: str = ""
    forced: bool = False


@dataclass(frozen=True)
class FaultEvent:
    """One injected fault that fired: on which host URL, of which kind, for which operation."""

    host: str
    kind: str
    operation: str
    time: datetime


def _as_dict(item: LedgerEntry | Rejection | FaultEvent) -> dict[str, Any]:
    data = dataclasses.asdict(item)
    data["time"] = item.time.isoformat()
    return data


class Ledger:
    """Everything the sandbox gateway accepted, rejected, or was made to fail.

    >>> from mandao.testing import SandboxGateway
    >>> with SandboxGateway(accounts={"SDK-TST-010-00001": "secret"}) as gw:
    ...     len(gw.ledger), gw.ledger.for_mobile("13800138000")
    (0, [])
    """

    def __init__(self) -> None:
        # Re-entrant: a ``wait`` predicate reads the ledger while the condition holds it.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._messages: list[LedgerEntry] = []
        self._rejections: list[Rejection] = []
        self._faults: list[FaultEvent] = []

    # -- writing (the sandbox's side) -------------------------------------------------
    def record(self, entries: list[LedgerEntry]) -> None:
        """Append accepted messages (all of one request at once)."""
        with self._lock:
            self._messages.extend(entries)
            self._changed.notify_all()

    def reject(self, rejection: Rejection) -> None:
        """Append one rejected request."""
        with self._lock:
            self._rejections.append(rejection)
            self._changed.notify_all()

    def note_fault(self, event: FaultEvent) -> None:
        """Append one fired fault."""
        with self._lock:
            self._faults.append(event)
            self._changed.notify_all()

    def clear(self) -> None:
        """Forget everything recorded so far (account state is untouched)."""
        with self._lock:
            self._messages.clear()
            self._rejections.clear()
            self._faults.clear()
            self._changed.notify_all()

    def wait(self, predicate: Callable[[Ledger], bool], timeout: float | None = 10.0) -> bool:
        """Block until ``predicate(ledger)`` holds; False if ``timeout`` passed first.

        Checked again after every change to the ledger, so a test waits on what it needs
        (``gw.ledger.wait(lambda l: len(l) == 1)``) instead of sleeping.
        """
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    # -- reading (the test's side) ----------------------------------------------------
    @property
    def messages(self) -> list[LedgerEntry]:
        """Every accepted message per recipient, oldest first (a copy)."""
        with self._lock:
            return list(self._messages)

    @property
    def rejections(self) -> list[Rejection]:
        """Every rejected request, oldest first (a copy)."""
        with self._lock:
            return list(self._rejections)

    @property
    def faults(self) -> list[FaultEvent]:
        """Every injected fault that fired, oldest first (a copy)."""
        with self._lock:
            return list(self._faults)

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self.messages)

    def filter(self, **fields: object) -> list[LedgerEntry]:
        """Messages whose fields equal all the given values, e.g. ``filter(protocol="ashx")``."""
        unknown = set(fields) - {f.name for f in dataclasses.fields(LedgerEntry)}
        if unknown:
            raise TypeError(f"LedgerEntry has no field(s) {sorted(unknown)}")
        return [m for m in self.messages if all(getattr(m, k) == v for k, v in fields.items())]

    def for_mobile(self, mobile: str) -> list[LedgerEntry]:
        """Messages accepted for this number."""
        return self.filter(mobile=mobile)

    def for_rrid(self, rrid: str) -> list[LedgerEntry]:
        """Messages accepted under this rrid."""
        return self.filter(rrid=rrid)

    def for_sn(self, sn: str) -> list[LedgerEntry]:
        """Messages accepted for this serial."""
        return self.filter(sn=sn)

    def for_host(self, host: str) -> list[LedgerEntry]:
        """Messages accepted by the host with this send URL."""
        return self.filter(host=host)

    @property
    def delivered(self) -> list[LedgerEntry]:
        """Messages sent at once (not scheduled)."""
        return self.filter(scheduled=False)

    @property
    def scheduled(self) -> list[LedgerEntry]:
        """Messages recorded for a later ``stime``."""
        return self.filter(scheduled=True)

    def rejections_with(self, code: str) -> list[Rejection]:
        """Rejected requests answered with ``code`` (e.g. ``"-4"``)."""
        return [r for r in self.rejections if r.code == code]

    def duplicates(self) -> dict[tuple[str, str], int]:
        """(mobile, content) pairs accepted more than once, with their counts."""
        counts: dict[tuple[str, str], int] = {}
        for m in self.messages:
            counts[(m.mobile, m.content)] = counts.get((m.mobile, m.content), 0) + 1
        return {k: n for k, n in counts.items() if n > 1}

    # -- export -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """Everything as JSON-able data: lists under ``messages``, ``rejections``, ``faults``."""
        return {
            "messages": [_as_dict(m) for m in self.messages],
            "rejections": [_as_dict(r) for r in self.rejections],
            "faults": [_as_dict(f) for f in self.faults],
        }

    def to_json(self) -> str:
        """``to_dict()`` as a JSON document (UTF-8 text kept readable)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    def to_csv(self) -> str:
        """The accepted messages as CSV with a header row."""
        out = io.StringIO()
        names = [f.name for f in dataclasses.fields(LedgerEntry)]
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for m in self.messages:
            writer.writerow(_as_dict(m))
        return out.getvalue()

    def export(self, path: str | Path) -> Path:
        """Write the ledger to ``path``: CSV of messages for ``*.csv``, else the JSON document."""
        target = Path(path)
        text = self.to_csv() if target.suffix.lower() == ".csv" else self.to_json()
        target.write_text(text, encoding="utf-8")
        return target
