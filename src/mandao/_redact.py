"""Redaction of credentials in log records, ours and those of the libraries under us.

urllib3 logs every request line at DEBUG, and an HTTP GET request line holds ``pwd`` in
its query; zeep's transport logs whole envelopes. A filter on those loggers rewrites each
record before any handler sees it.
"""

from __future__ import annotations

import logging
import re

__all__ = ["LIBRARY_LOGGERS", "RedactingFilter", "install", "redact"]

_PATTERNS = (
    # query strings and form bodies: pwd=..., newpwd=...
    (re.compile(r"(?i)(\b(?:new)?pwd=)[^&\s\"']*"), r"\1***"),
    # XML elements, with or without a prefix: <pwd>...</pwd>, <ns0:pwd>...</ns0:pwd>
    (re.compile(r"(?i)(<(?:\w+:)?(?:new)?pwd>)[^<]*(</)"), r"\1***\2"),
)

#: The loggers of the libraries under mandao that can see a request's fields.
LIBRARY_LOGGERS = (
    "urllib3.connectionpool",
    "zeep.transports",
    "zeep.wsdl.bindings.soap",
    "zeep.wsdl.bindings.http",
)


def redact(text: str) -> str:
    """``text`` with every ``pwd``/``newpwd`` value replaced by ``***``.

    >>> redact("GET /webservice.asmx/mdgetSninfo?sn=SDK-TST-010-00001&pwd=E032A1 HTTP/1.1")
    'GET /webservice.asmx/mdgetSninfo?sn=SDK-TST-010-00001&pwd=*** HTTP/1.1'
    >>> redact("<ns0:pwd>secret</ns0:pwd>")
    '<ns0:pwd>***</ns0:pwd>'
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with :func:`redact`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Attach the filter to mandao's logger and the libraries' (idempotent)."""
    for name in ("mandao", *LIBRARY_LOGGERS):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
