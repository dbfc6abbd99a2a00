"""The library's logger: records go to ``logging.getLogger("mandao")``, never printed by us.

A ``NullHandler`` keeps Python's last-resort handler from printing warnings when the
application has not configured logging; redaction of credentials is installed with it.
"""

from __future__ import annotations

import logging

from ._redact import install

__all__ = ["logger"]

logger = logging.getLogger("mandao")
logger.addHandler(logging.NullHandler())
install()
