"""Redaction of credentials in log records, ours and those of the libraries under us.

urllib3 logs every request line at DEBUG, and an HTTP GET request line holds ``pwd`` in
its query; zeep's transport logs whole envelopes. A filter on those loggers rewrites each
record before any handler sees it. :func:`redact_exception` does the same to an exception
kept for the caller (:attr:`mandao.OutcomeUnknown.cause`), whose text and request hold the
same URLs and bodies.

What a server sends back can echo the request anywhere (an error page, a fault string, a
status line), not only as ``pwd=``: :class:`Secrets` are the exact values one request
carried (the password, its MD5 form in both cases), and each as a request or a reply may
spell it (percent-encoded, XML-escaped), scrubbed from every text that came from a server
before mandao raises, logs or journals it. While a transport carries the
request they are also scrubbed from the log records of that exchange (:func:`scrubbing`).
Never from what the user sent, nor from a result the gateway accepted: a short password
can match digits of an id.
"""

from __future__ import annotations

import contextlib
import contextvars
import html
import logging
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

__all__ = [
    "LIBRARY_LOGGERS",
    "RedactingFilter",
    "Secrets",
    "install",
    "redact",
    "redact_exception",
    "scrubbing",
]

_PATTERNS = (
    # query strings and form bodies: pwd=..., newpwd=...
    (re.compile(r"(?i)(\b(?:new)?pwd=)[^&\s\"']*"), r"\1***"),
    # XML elements, with or without a prefix: <pwd>...</pwd>, <ns0:pwd>...</ns0:pwd>
    (re.compile(r"(?i)(<(?:\w+:)?(?:new)?pwd>)[^<]*(</)"), r"\1***\2"),
)

#: The loggers of the libraries under mandao that can see a request's fields, or a reply's
#: status line and headers (which a server can make echo them). A filter applies only to
#: records logged on its own logger, never to a child's: each is named.
LIBRARY_LOGGERS = (
    "urllib3.connectionpool",
    "zeep.transports",
    "zeep.wsdl.bindings.soap",
    "zeep.wsdl.bindings.http",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


_HEX = re.compile(r"%[0-9A-F]{2}")
#: What a text holds if it spells a value otherwise than as itself (see spellings).
_ENCODED = re.compile(r"[%&+]")
_QUOTES = {'"': "&quot;", "'": "&apos;"}


def spellings(value: str) -> set[str]:
    """``value`` and each way a request or a reply may spell it: percent-encoded as a URL
    or a form encodes it (hex in either case, a space as ``%20`` or ``+``), XML- or
    HTML-escaped. A value of ASCII letters and digits (an MD5 form) has only itself.

    >>> sorted(spellings("a#b c"))
    ['a#b c', 'a%23b%20c', 'a%23b+c']
    >>> sorted(spellings("p&w<d"))[:3]
    ['p%26w%3Cd', 'p%26w%3cd', 'p&amp;w&lt;d']
    """
    if value.isascii() and value.isalnum():
        return {value}
    found = {value, escape(value), escape(value, _QUOTES), html.escape(value)}
    for encoded in (
        quote(value, safe=""),
        quote_plus(value, safe=""),
        quote(value),
        quote_plus(value),
    ):
        found |= {encoded, _HEX.sub(lambda hexed: hexed.group().lower(), encoded)}
    return found


def _longest_first(values: set[str]) -> tuple[str, ...]:
    return tuple(sorted(values, key=len, reverse=True))


class Secrets:
    """The exact secret values one request carries, to scrub from what a server sends back,
    however it spells them (:func:`spellings`).

    Never shown: the repr names how many there are, not what they are.

    >>> Secrets(["s3cr3t", "E032A1"]).scrub("echo: pwd s3cr3t, e032a1, E032A1")
    'echo: pwd ***, e032a1, ***'
    >>> Secrets(["Xk9#pQ2<"]).scrub("A[Xk9%23pQ2%3C] B[Xk9%23pQ2%3c] C[xk9%23pq2%3c]")
    'A[***] B[***] C[xk9%23pq2%3c]'
    """

    __slots__ = ("_spelt", "_values")

    def __init__(self, values: Iterable[str]) -> None:
        # Longest first: a password inside its own MD5 form (or the reverse) goes whole.
        self._values = _longest_first({v for v in values if v})
        self._spelt: tuple[str, ...] | None = None  # with every spelling, once one may show

    def scrub(self, text: str) -> str:
        """``text`` with every secret value, and every ``pwd=`` value, replaced by ``***``."""
        values = self._values
        if _ENCODED.search(text):  # an escape or a %: spelt otherwise, maybe (made once)
            if self._spelt is None:
                self._spelt = _longest_first({f for v in values for f in spellings(v)})
            values = self._spelt
        for value in values:
            if value in text:
                text = text.replace(value, "***")
        return redact(text)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __repr__(self) -> str:
        return f"<Secrets: {len(self._values)} hidden>"

    def __reduce__(self) -> str:
        raise TypeError("mandao secrets are not picklable")


#: The secrets of the exchange in progress in this thread or task (see :func:`scrubbing`).
_ACTIVE: contextvars.ContextVar[Secrets | None] = contextvars.ContextVar(
    "mandao_secrets", default=None
)


@contextlib.contextmanager
def scrubbing(secrets: Secrets) -> Iterator[None]:
    """Scrub ``secrets`` from the log records made in this context while the block runs.

    The libraries log an exchange's status line and headers as they read them, in the
    thread (or asyncio task) that carries it; the filter finds the secrets here.
    """
    token = _ACTIVE.set(secrets)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


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


def _redact_value(value: object, secrets: Secrets | None = None) -> object:
    clean = redact if secrets is None else secrets.scrub
    if isinstance(value, str):
        cleaned = clean(value)
        return value if cleaned == value else cleaned
    if isinstance(value, (bytes, bytearray)):
        # surrogateescape: any bytes round-trip unchanged except the redacted values.
        text = bytes(value).decode("utf-8", "surrogateescape")
        cleaned = clean(text)
        return value if cleaned == text else cleaned.encode("utf-8", "surrogateescape")
    return value


def _redact_attributes(obj: object, names: tuple[str, ...], secrets: Secrets | None) -> None:
    for name in names:
        try:
            value = getattr(obj, name, None)
        except Exception:  # noqa: S112 (a property that cannot be read holds nothing to redact)
            continue
        cleaned = _redact_value(value, secrets)
        if cleaned is not value:
            # A read-only attribute (a property) is derived from one this rewrites.
            with contextlib.suppress(AttributeError, TypeError):
                setattr(obj, name, cleaned)


def _holds_request(value: object) -> bool:
    """Whether ``value`` looks like a request (a ``url`` or a ``body``); a property that
    raises (httpx's ``request`` unset) says no."""
    try:
        return hasattr(value, "url") or hasattr(value, "body")
    except Exception:
        return False


def redact_exception(exc: BaseException, secrets: Secrets | None = None) -> BaseException:
    """``exc``, with every ``pwd``/``newpwd`` value in it replaced by ``***``, in place.

    With ``secrets``, their exact values go too, wherever they are (a status line or a
    chunk size the server echoed the request into).

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
        with contextlib.suppress(AttributeError, TypeError):  # a class that forbids it
            current.args = tuple(_redact_value(arg, secrets) for arg in current.args)
        attributes = getattr(current, "__dict__", {})
        for name, value in list(attributes.items()):
            found.append(value)
            cleaned = _redact_value(value, secrets)
            if cleaned is not value:
                attributes[name] = cleaned
            elif not isinstance(value, BaseException) and _holds_request(value):
                _redact_attributes(value, ("url", "body"), secrets)
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
        secrets = _ACTIVE.get()
        cleaned = redact(message) if secrets is None else secrets.scrub(message)
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
