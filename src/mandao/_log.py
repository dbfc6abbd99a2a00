"""The library's logger: records go to ``logging.getLogger("mandao")``, never printed by us.

A ``NullHandler`` keeps Python's last-resort handler from printing warnings when the
application has not configured logging; redaction of credentials is installed with it.

A warning said again within :data:`REPEAT_WINDOW` seconds, word for word, is passed on at
DEBUG: an outage makes every request of every caller say the same two lines (a host
unreachable, the switch to the other), 440 lines for 200 tasks with both hosts down, where
one of each says it. Each is still there at DEBUG.
"""

from __future__ import annotations

import logging
import threading
import time

from ._redact import install

__all__ = ["REPEAT_WINDOW", "logger"]

#: Seconds within which a warning said again word for word goes on at DEBUG.
REPEAT_WINDOW = 30.0


class _Repeats(logging.Filter):
    """Demotes a WARNING record whose message was said within the window; never drops one."""

    def __init__(self) -> None:
        super().__init__()
        self._said: dict[str, float] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Say every warning afresh from now on."""
        with self._lock:
            self._said.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        now = time.monotonic()
        with self._lock:
            last = self._said.get(message)
            if last is None or now - last >= REPEAT_WINDOW:
                if len(self._said) > 1024:  # many different ones: start afresh
                    self._said.clear()
                self._said[message] = now
                return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


logger = logging.getLogger("mandao")
logger.addHandler(logging.NullHandler())
repeats = _Repeats()
logger.addFilter(repeats)
install()
