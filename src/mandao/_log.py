"""The library's logger: records go to ``logging.getLogger("mandao")``, never printed by us.

A ``NullHandler`` keeps Python's last-resort handler from printing warnings when the
application has not configured logging; redaction of credentials is installed with it.
"""

from __future__ import annotations

import logging

from ._redact import install

__all__ = ["heard", "logger"]

logger = logging.getLogger("mandao")
logger.addHandler(logging.NullHandler())
install()


def heard(level: int) -> bool:
    """Whether a record at ``level`` from :data:`logger` would reach a handler that emits.

    ``logger.isEnabledFor`` alone says yes to a WARNING when the application configured no
    logging at all (only our ``NullHandler`` listens); the record would then still be made,
    redacted and formatted for nobody. Hot paths (a host failing over) ask this first. It
    walks the same chain as ``Logger.callHandlers``, so a handler added later is heard.

    >>> heard(logging.DEBUG)  # nothing configured: the root logger's level is WARNING
    False
    """
    if not logger.isEnabledFor(level):
        return False
    found = False
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            found = True
            if level >= handler.level and not isinstance(handler, logging.NullHandler):
                return True
        current = current.parent if current.propagate else None
    # No handler anywhere: logging falls back to its last resort (stderr, WARNING and up).
    return not found and logging.lastResort is not None and level >= logging.lastResort.level
