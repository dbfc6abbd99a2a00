"""The ledger as JSON Lines, written as it goes: ``SandboxGateway(ledger_path=...)``.

One JSON object a line, UTF-8, appended and flushed as each record arrives (a killed
sandbox leaves every line written so far; flushed to the operating system, not synced to
the disk):

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

Times are ISO 8601. ``mandao journal pending --against FILE`` reads the message lines.
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


def _entry_fields(item: object) -> dict[str, Any]:
    # The records are plain frozen dataclasses: vars() is a shallow copy, cheaper than
    # dataclasses.asdict's deep one, which matters at 5,000 entries a request.
    fields: dict[str, Any] = dict(vars(item))
    for key, value in fields.items():
        if isinstance(value, datetime):
            fields[key] = value.isoformat()
    return fields


class LedgerFile:
    """Appends the ledger's records to a JSON Lines file as they arrive; thread-safe.

    ``open()`` starts the file afresh the first time and appends after that (a gateway
    started again goes on in the same file); a record arriving while it is closed (a
    request finishing after ``stop()``) is appended all the same. An error writing is
    kept in ``error`` and stops the writing: the gateway goes on serving.
    """

    def __init__(
        self, path: str | os.PathLike[str], clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self.error: OSError | None = None
        self.lines = 0
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._started = False

    def open(self) -> None:
        """Open the file: truncated the first time, appended to after that."""
        with self._lock:
            if self._file is None:
                mode = "a" if self._started else "w"
                self._file = self.path.open(mode, encoding="utf-8", newline="\n")
                self._started = True

    def close(self) -> None:
        """Flush and close; safe to call twice."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

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
            when = datetime.fromtimestamp(self._clock()).isoformat()
            lines = [{"kind": "cleared", "deleted": payload, "time": when}]
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
        """Append ``lines`` (JSON objects) and flush them."""
        if not lines or self.error is not None:
            return
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        with self._lock:
            try:
                if self._file is None:
                    # Closed (after stop): append and close again, losing nothing.
                    with self.path.open("a", encoding="utf-8", newline="\n") as late:
                        late.write(text)
                else:
                    self._file.write(text)
                    self._file.flush()
                self.lines += len(lines)
            except OSError as exc:
                self.error = exc
