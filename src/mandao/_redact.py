"""Redaction of credentials in log records, ours and those of the libraries under us.

urllib3 logs every request line at DEBUG, and an HTTP GET request line holds ``pwd`` in
its query; zeep's transport logs whole envelopes. A filter on those loggers rewrites each
record before any handler sees it. :func:`redact_exception` does the same to an exception
kept for the caller (:attr:`mandao.OutcomeUnknown.cause`), whose text and request hold the
same URLs and bodies.
"""

from __future__ import annotations

import contextlib
import logging
import re

__all__ = ["LIBRARY_LOGGERS", "RedactingFilter", "install", "redact", "redact_exception"]

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


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        # surrogateescape: any bytes round-trip unchanged except the redacted values.
        text = value.decode("utf-8", "surrogateescape")
        cleaned = redact(text)
        return value if cleaned == text else cleaned.encode("utf-8", "surrogateescape")
    return value


def _redact_attributes(obj: object, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(obj, name, None)
        cleaned = _redact_value(value)
        if cleaned is not value:
            # A read-only attribute (a property) is derived from one this rewrites.
            with contextlib.suppress(AttributeError, TypeError):
                setattr(obj, name, cleaned)


def redact_exception(exc: BaseException) -> BaseException:
    """``exc``, with every ``pwd``/``newpwd`` value in it replaced by ``***``, in place.

    Rewrites the text of its ``args`` and of its attributes (urllib3's ``MaxRetryError``
    keeps the URL, query included), the ``url`` and ``body`` of a request it holds
    (requests' ``exc.request``), and does the same for every exception it leads to
    (``args``, attributes such as ``reason``, ``__cause__``, ``__context__``). Tracebacks
    are dropped: their frames' locals hold the request's URL and body.

    >>> error = OSError("GET /x?sn=S&pwd=E032A1 failed")
    >>> redact_exception(error) is error, str(error)
    (True, 'GET /x?sn=S&pwd=*** failed')
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        # Its frames' locals hold what it was raised about (an HTTP GET's URL, with pwd).
        current.__traceback__ = None
        found: list[object] = list(current.args)
        current.args = tuple(_redact_value(arg) for arg in current.args)
        attributes = getattr(current, "__dict__", {})
        for name, value in list(attributes.items()):
            found.append(value)
            cleaned = _redact_value(value)
            if cleaned is not value:
                attributes[name] = cleaned
            elif not isinstance(value, BaseException) and (
                hasattr(value, "url") or hasattr(value, "body")
            ):
                _redact_attributes(value, ("url", "body"))
        found += [current.__cause__, current.__context__]
        pending += [item for item in found if isinstance(item, BaseException)]
    return exc


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
