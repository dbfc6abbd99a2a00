"""The ledger as JSON Lines, written as it goes: ``SandboxGateway(ledger_path=...)``.

One JSON object a line, UTF-8, appended and flushed as each record arrives (a killed
sandbox leaves every line written so far; flushed to the operating system, not synced to
the disk). The file is never truncated: each start of a gateway appends a ``started``
line, then its records (a crashed run's lines stay when the next run opens the file):

- ``{"kind": "started", "time", "next_id"}``: a gateway started writing (``next_id`` is
  the number its next message gets: a new process numbers from 1 again);
- ``{"kind": "message", "id": N, "batch": B, "sn", "mobile", "content", "host",
  "protocol", "operation", "rrid", "gateway_id", "ext", "stime", "scheduled", "time",
  "segments"}``: one accepted message per recipient (``gateway_id`` is the ledger entry's
  ``id``, what the send returned; ``id`` is the inbox's number);
- ``{"kind": "rejection", "code", "operation", "sn", "host", "protocol", "time", "mobile",
  "rrid", "forced"}``: a request answered with a negative code;
- ``{"kind": "fault", "host", "fault", "operation", "time"}``: a fault that fired
  (``fault`` is its kind);
- ``{"kind": "reply", "id", "sn", "mobile", "text", "service_number", "ext", "received"}``:
  a reply (MO) injected (``id`` is its moID);
- ``{"kind": "cleared", "deleted": N, "time"}``: the ledger was cleared (the lines before
  stay: the file keeps everything).

Every time is ISO 8601 with its UTC offset, in the machine's time zone
(``2026-12-01T16:05:19.123456+08:00``). A text UTF-8 cannot carry (a lone surrogate,
``%uD800`` sent alone) makes its line ASCII with JSON escapes (``\\ud800``): the line
is still JSON, and reads back to the same text. ``mandao journal pending --against
FILE`` reads the message lines.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from .._inbound import InjectedReply
from .._ledger import FaultEvent, Recorded, Rejection

__all__ = ["LedgerFile", "message_line"]


def message_line(number: int, batch: int, data: dict[str, Any]) -> dict[str, Any]:
    """A message line's object from a ledger entry's fields (``data``)."""
    line: dict[str, Any] = {"kind": "message", "id": number, "batch": batch}
    for key, value in data.items():
        line["gateway_id" if key == "id" else key] = value
    return line


def _stamp(when: datetime) -> str:
    # Aware, in the machine's zone: the ledger's naive local times and the replies' China
    # times alike (astimezone reads a naive time as local).
    return when.astimezone().isoformat()


def _entry_fields(item: object) -> dict[str, Any]:
    # The records are plain frozen dataclasses: vars() is a shallow copy, cheaper than
    # dataclasses.asdict's deep one, which matters at 5,000 entries a request.
    fields: dict[str, Any] = dict(vars(item))
    for key, value in fields.items():
        if isinstance(value, datetime):
            fields[key] = _stamp(value)
    return fields


def _encoded(lines: list[dict[str, Any]]) -> bytes:
    try:
        text = "".join(
            json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n" for line in lines
        )
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere: those lines in ASCII
        return b"".join(_encoded_one(line) for line in lines)


def _encoded_one(line: dict[str, Any]) -> bytes:
    text = json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(line, allow_nan=False) + "\n").encode("ascii")


class LedgerFile:
    """Appends the ledger's records to a JSON Lines file as they arrive; thread-safe.

    ``open()`` appends (never truncates) and writes a ``started`` line first; a record
    arriving while it is closed (a request finishing after ``stop()``) is appended all the
    same. An error writing (the disk, or a record that cannot be written) is kept in
    ``error`` and stops the writing: the gateway goes on serving, and ``mandao sandbox``
    exits 1 saying so.
    """

    def __init__(
        self, path: str | os.PathLike[str], clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self.error: OSError | ValueError | None = None
        self.lines = 0
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        #: The number the next message gets (for the ``started`` line); set by the gateway.
        self.next_id: Callable[[], int] = lambda: 1

    def open(self) -> None:
        """Open the file to append, and write the ``started`` line."""
        with self._lock:
            if self._file is not None:
                return
            try:
                self._file = self.path.open("ab")
            except OSError as exc:
                self.error = exc
                return
        self.write([{"kind": "started", "time": self._now(), "next_id": self.next_id()}])

    def close(self) -> None:
        """Flush and close; safe to call twice."""
        with self._lock:
            if self._file is not None:
                file, self._file = self._file, None
                try:
                    file.close()
                except OSError as exc:
                    self.error = self.error or exc

    def _now(self) -> str:
        return _stamp(datetime.fromtimestamp(self._clock()))

    # -- what it hears --------------------------------------------------------------------
    def __call__(self, kind: str, payload: Any) -> None:
        """A ledger listener: write the line(s) of one record."""
        if kind == "message":
            recorded: Recorded = payload
            lines = [
                message_line(recorded.first + i, recorded.batch, _entry_fields(entry))
                for i, entry in enumerate(recorded.entries)
            ]
        elif kind == "rejection":
            rejection: Rejection = payload
            lines = [{"kind": "rejection", **_entry_fields(rejection)}]
        elif kind == "fault":
            event: FaultEvent = payload
            fields = _entry_fields(event)
            fields["fault"] = fields.pop("kind")
            lines = [{"kind": "fault", **fields}]
        elif kind == "cleared":
            lines = [{"kind": "cleared", "deleted": payload, "time": self._now()}]
        else:
            return
        self.write(lines)

    def replies(self, made: Iterable[InjectedReply]) -> None:
        """Write one line per injected reply."""
        lines = []
        for reply in made:
            lines.append({"kind": "reply", **_entry_fields(reply)})
        self.write(lines)

    def write(self, lines: list[dict[str, Any]]) -> None:
        """Append ``lines`` (JSON objects) and flush them; a failure goes to ``error``."""
        if not lines or self.error is not None:
            return
        with self._lock:
            if self.error is not None:
                return
            try:
                data = _encoded(lines)
                if self._file is None:
                    # Closed (after stop): append and close again, losing nothing.
                    with self.path.open("ab") as late:
                        late.write(data)
                else:
                    self._file.write(data)
                    self._file.flush()
                self.lines += len(lines)
            except (OSError, ValueError) as exc:
                # ValueError: what json cannot write (NaN) or UTF-8 cannot carry.
                self.error = exc
