"""The ledger: ground truth for "nothing lost, nothing doubled".

One ``LedgerEntry`` per accepted message per recipient, one ``Rejection`` per request the
gateway answered with a negative code, one ``FaultEvent`` per injected fault. Thread-safe:
connection threads append while a test reads.

Each accepted message also has a number (1-based, never reused, not even after
``clear()``) and a batch (the request that carried it), and the ledger keeps an index of
its messages per mobile as they come, so the inbox reads a page, one message or one
number's messages without copying or scanning the whole ledger. Listeners (the JSON
Lines file, the inbox's event stream) hear of every write, in order, under the lock.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["FaultEvent", "Ledger", "LedgerEntry", "Listener", "Numbered", "Recorded", "Rejection"]

_log = logging.getLogger("mandao.testing")


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


class Recorded(NamedTuple):
    """What one ``record`` call added: ``entries`` numbered from ``first``, all of ``batch``."""

    first: int
    batch: int
    entries: list[LedgerEntry]


class Numbered(NamedTuple):
    """One accepted message with its inbox number and batch."""

    number: int
    batch: int
    entry: LedgerEntry


#: A listener hears ``("message", Recorded)``, ``("rejection", Rejection)``, ``("fault",
#: FaultEvent)`` and ``("cleared", count)``, in order, under the ledger's lock: it must be
#: quick and must not call back into the ledger from another thread. What it raises is
#: logged (``mandao.testing``, with the traceback) and goes no further: the request that
#: wrote the record is answered all the same, and the other listeners still hear of it.
Listener = Callable[[str, Any], None]


def _as_dict(item: LedgerEntry | Rejection | FaultEvent) -> dict[str, Any]:
    data = dataclasses.asdict(item)
    data["time"] = item.time.isoformat()
    return data


class Ledger:
    """Everything the sandbox gateway accepted, rejected, or was made to fail.

    >>> from mandao.testing import SandboxGateway
    >>> with SandboxGateway(accounts={"SDK-TST-010-00001": "secret"}) as gw:
    ...     len(gw.ledger), gw.ledger.for_mobile("13800138000"), gw.ledger
    (0, [], <Ledger: 0 message(s), 0 rejection(s), 0 fault(s)>)
    """

    def __init__(self) -> None:
        # Re-entrant: a ``wait`` predicate reads the ledger while the condition holds it.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._messages: list[LedgerEntry] = []
        self._rejections: list[Rejection] = []
        self._faults: list[FaultEvent] = []
        self._base = 1  # the number of _messages[0]
        self._batches: list[int] = []  # the batch of each message, beside _messages
        self._batch = 0
        self._by_mobile: dict[str, list[int]] = {}  # mobile -> positions in _messages
        self._listeners: list[Listener] = []

    # -- writing (the sandbox's side) -------------------------------------------------
    def record(self, entries: list[LedgerEntry]) -> None:
        """Append accepted messages (all of one request at once: one batch)."""
        with self._lock:
            if entries:
                self._batch += 1
                start = len(self._messages)
                self._messages.extend(entries)
                self._batches.extend([self._batch] * len(entries))
                index = self._by_mobile
                for position, entry in enumerate(entries, start):
                    positions = index.get(entry.mobile)
                    if positions is None:
                        index[entry.mobile] = [position]
                    else:
                        positions.append(position)
                self._tell("message", Recorded(self._base + start, self._batch, entries))
            self._changed.notify_all()

    def reject(self, rejection: Rejection) -> None:
        """Append one rejected request."""
        with self._lock:
            self._rejections.append(rejection)
            self._tell("rejection", rejection)
            self._changed.notify_all()

    def note_fault(self, event: FaultEvent) -> None:
        """Append one fired fault."""
        with self._lock:
            self._faults.append(event)
            self._tell("fault", event)
            self._changed.notify_all()

    def clear(self) -> int:
        """Forget everything recorded so far (account state is untouched); how many
        messages were forgotten. Numbers go on from where they were."""
        with self._lock:
            count = len(self._messages)
            self._base += count
            self._messages.clear()
            self._batches.clear()
            self._by_mobile.clear()
            self._rejections.clear()
            self._faults.clear()
            self._tell("cleared", count)
            self._changed.notify_all()
            return count

    def listen(self, listener: Listener) -> None:
        """Have ``listener`` hear of every write from now on (see :data:`Listener`)."""
        with self._lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        """Stop telling ``listener``; nothing if it was not listening."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _tell(self, kind: str, payload: object) -> None:
        for listener in self._listeners:
            try:
                listener(kind, payload)
            except Exception:
                # The record is made and the account charged: a listener that fails (a
                # bug, a disk) must not turn that into an error for the caller.
                _log.exception("the ledger's listener %r failed on a %s record", listener, kind)

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

    def __repr__(self) -> str:
        with self._lock:
            counts = len(self._messages), len(self._rejections), len(self._faults)
        return "<Ledger: {} message(s), {} rejection(s), {} fault(s)>".format(*counts)

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
        """Messages accepted for this number, oldest first (from the per-mobile index)."""
        with self._lock:
            return [self._messages[i] for i in self._by_mobile.get(mobile, ())]

    # -- numbered reading (the inbox's side) ------------------------------------------
    @property
    def last_number(self) -> int:
        """The number of the latest message recorded (0 before the first), cleared or not."""
        with self._lock:
            return self._base + len(self._messages) - 1

    def numbered(self, number: int) -> Numbered | None:
        """The message numbered ``number``, or None (never recorded, or cleared)."""
        with self._lock:
            position = number - self._base
            if 0 <= position < len(self._messages):
                return Numbered(number, self._batches[position], self._messages[position])
            return None

    def count(self, mobile: str | None = None) -> int:
        """How many messages there are (for ``mobile``, or in all)."""
        with self._lock:
            if mobile is None:
                return len(self._messages)
            return len(self._by_mobile.get(mobile, ()))

    def newest(self, skip: int, take: int, mobile: str | None = None) -> list[Numbered]:
        """Up to ``take`` messages (of ``mobile``, or of all), newest first, after skipping
        the ``skip`` newest: one page, read without copying the ledger."""
        with self._lock:
            if mobile is None:
                last = len(self._messages) - 1
                positions: range | list[int] = range(last - skip, max(last - skip - take, -1), -1)
            else:
                mine = self._by_mobile.get(mobile, [])
                end = len(mine) - skip
                positions = mine[max(end - take, 0) : max(end, 0)][::-1]
            return [
                Numbered(self._base + i, self._batches[i], self._messages[i]) for i in positions
            ]

    def page(self, skip: int, take: int, mobile: str | None = None) -> tuple[int, list[Numbered]]:
        """``(count(mobile), newest(skip, take, mobile))`` read at one moment (under one
        hold of the lock), so the total always agrees with the page."""
        with self._lock:
            return self.count(mobile), self.newest(skip, take, mobile)

    def snapshot(self) -> tuple[int, list[LedgerEntry], list[int]]:
        """(number of the first, the messages, their batches): a copy, for a search that
        scans every message without holding the lock while it does."""
        with self._lock:
            return self._base, list(self._messages), list(self._batches)

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
