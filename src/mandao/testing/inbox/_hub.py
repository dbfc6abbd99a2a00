"""``EventHub``: the ordered log of what happened, that the inbox's event streams follow.

Fed by the ledger's writes (a listener: one entry per request's messages, per fired
fault, per clear) and by the gateway (replies injected, faults switched). Publishing is
an append and a ``notify_all`` under the hub's own lock: the gateway's request never
waits for a stream, and a stream never holds the ledger's lock while it writes. Each
stream keeps its place (a sequence number) and waits on the hub's condition for entries
after it; ``close()`` wakes every stream so it ends at once.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from .._ledger import FaultEvent, Recorded

__all__ = ["Event", "EventHub"]


class Event(NamedTuple):
    """One entry of the log: its sequence number, its kind, what it carries."""

    seq: int
    kind: str
    data: Any


class EventHub:
    """An append-only log of events, trimmed to about the last ``keep``; thread-safe.

    ``message`` events carry ``(first, last)`` message numbers (the stream reads the
    messages from the ledger when it writes them), the others their JSON-able data.
    """

    def __init__(self, keep: int = 10_000) -> None:
        self._cond = threading.Condition()
        self._log: list[Event] = []
        self._first = 1  # the seq of _log[0]
        self._seq = 0
        self._keep = keep
        self.closed = False
        #: URL -> host name, for the fault events of the ledger (set by the inbox).
        self.host_names: dict[str, str] = {}

    @property
    def seq(self) -> int:
        """The sequence number of the latest event (0 before the first)."""
        with self._cond:
            return self._seq

    def publish(self, kind: str, data: Any) -> None:
        """Append an event and wake the streams."""
        with self._cond:
            self._seq += 1
            self._log.append(Event(self._seq, kind, data))
            if len(self._log) > 2 * self._keep:
                drop = len(self._log) - self._keep
                del self._log[:drop]
                self._first += drop
            self._cond.notify_all()

    def __call__(self, kind: str, payload: Any) -> None:
        """A ledger listener: publish what the inbox's streams show."""
        if kind == "message":
            recorded: Recorded = payload
            self.publish("message", (recorded.first, recorded.first + len(recorded.entries) - 1))
        elif kind == "fault":
            event: FaultEvent = payload
            self.publish(
                "fault",
                {
                    "change": "fired",
                    "host": self.host_names.get(event.host, ""),
                    "url": event.host,
                    "fault": event.kind,
                    "operation": event.operation,
                    "time": event.time.astimezone().isoformat(),  # aware, as everywhere
                },
            )
        elif kind == "cleared":
            self.publish("cleared", {"deleted": payload})

    def wait(self, after: int, timeout: float | None) -> tuple[list[Event], bool]:
        """Events after seq ``after``, waiting up to ``timeout`` for one; and whether some
        were trimmed away before this stream read them. ``([], False)`` on a timeout or
        once closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq > after or self.closed, timeout)
            if self.closed or self._seq <= after:
                return [], False
            start = after + 1 - self._first
            return self._log[max(start, 0) :], start < 0

    def close(self) -> None:
        """End every stream: their waits return at once, and no new one waits."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()
