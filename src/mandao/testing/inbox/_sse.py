"""The inbox's event stream (``GET /api/events``): Server-Sent Events from the hub.

Each stream follows the hub from where it joined: ``event: message`` (``id:`` the
message's number, ``data:`` its JSON), ``event: reply``, ``event: fault`` and
``event: cleared`` (their JSON), and a comment line every ``keepalive`` seconds. It joins
when :func:`event_stream` is called, before the answer's headers go out: a client that
has the headers (EventSource's ``open``) misses nothing from then on. With a
``Last-Event-ID`` (a browser reconnecting) or ``?after=N`` (a page rendered with the
messages up to N: its ``data-last-id``), the messages numbered after it that are still
in the ledger come first (the latest 1,000 at most); a ``Last-Event-ID`` wins over
``after`` (it is the later of the two). A burst of more than 1,000 messages
between two reads sends the newest 1,000 after an ``event: skipped`` naming the numbers
left out (``/api/messages`` has them). The stream waits on the hub's condition, never
on a sleep, and ends as soon as the hub closes (the gateway stopping).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._app import InboxApp
from ._http import Stream, json_bytes

__all__ = ["BURST", "event_stream"]

BURST = 1000  # at most this many message events at a time (and replayed on reconnecting)


def _event(kind: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"event: {kind}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode("ascii") + b"data: " + json_bytes(data) + b"\n\n"


def _last_event_id(value: str | None) -> int | None:
    if value and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def event_stream(app: InboxApp, last_event_id: str | None, after: int | None = None) -> Stream:
    """The stream for one client (``last_event_id``: its ``Last-Event-ID`` header;
    ``after``: its ``?after=``), joined now: called before the headers are written."""
    hub, view, ledger = app.hub, app.view, app.view.ledger
    # The hub's place first, then the ledger's: a message recorded in between is in both,
    # and ``sent`` keeps it from being written twice. Taken here, not in run(): run()
    # starts after the headers, and a message recorded in between would be on neither.
    cursor = hub.seq
    sent = ledger.last_number
    replay = _last_event_id(last_event_id)
    if replay is None:
        replay = after

    def run(write: Callable[[bytes], None]) -> None:
        nonlocal cursor, sent

        def messages(first: int, last: int) -> None:
            nonlocal sent
            first = max(first, sent + 1)
            if first > last:
                return
            if last - first + 1 > BURST:
                write(_event("skipped", {"from": first, "to": last - BURST}))
                first = last - BURST + 1
            chunks = [
                _event("message", m.to_dict(), m.id) for m in view.messages_between(first, last)
            ]
            sent = last
            if chunks:
                write(b"".join(chunks))

        write(b"retry: 2000\n: connected\n\n")
        if replay is not None and replay < sent:
            start, sent = replay + 1, replay
            messages(start, ledger.last_number)
        while not hub.closed:
            events, lost = hub.wait(cursor, app.keepalive)
            if hub.closed:
                return
            if not events:
                write(b": keep-alive\n\n")
                continue
            cursor = events[-1].seq
            if lost:
                messages(sent + 1, ledger.last_number)
            for event in events:
                if event.kind == "message":
                    messages(*event.data)
                else:
                    write(_event(event.kind, event.data))

    return Stream(run)
