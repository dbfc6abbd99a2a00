"""Redaction of credentials in log records, ours and those of the libraries under us.

urllib3 logs every request line at DEBUG, and an HTTP GET request line holds ``pwd`` in
its query; zeep's transport logs whole envelopes. A filter on those loggers rewrites each
record before any handler sees it. :func:`redact_exception` does the same to an exception
kept for the caller (:attr:`mandao.OutcomeUnknown.cause`), whose text and request hold the
same URLs and bodies.

What a server sends back can echo the request anywhere (an error page, a fault string, a
status line), not only as ``pwd=``: :class:`Secrets` are the exact values one request
carried (the password, its MD5 form in both cases), each however an encoder may spell
it (percent-encoded, HTML- or XML-escaped, JSON-escaped, mixed), scrubbed from every text
that came from a server before mandao raises, logs or journals it. While a transport
carries the request they are also scrubbed from the log records of that exchange
(:func:`scrubbing`). Never from what the user sent, nor from a result the gateway
accepted: a short password can match digits of an id.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import html.entities
import logging
import re
from collections.abc import Iterable, Iterator

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


#: What a text holds if it spells a value otherwise than as itself (see spelling): a %XX,
#: an entity, a + for a space, a JSON escape.
_ENCODED = re.compile(r"[%&+\\]")


@functools.cache
def _entities() -> dict[str, tuple[str, ...]]:
    """Each character HTML has a name for, with its names (``<``: ``&lt;``, ``&LT;``)."""
    names: dict[str, list[str]] = {}
    for name, char in html.entities.html5.items():
        if name.endswith(";") and len(char) == 1:
            names.setdefault(char, []).append(f"&{name}")
    return {char: tuple(found) for char, found in names.items()}


def _hex(number: int, width: int = 2) -> str:
    """``number`` in hex, either case: ``(?i:3c)``."""
    return f"(?i:{number:0{width}x})"


def _character(char: str) -> str:
    """A regular expression for ``char`` as any encoder writes it: itself, ``%XX`` for each
    of its UTF-8 bytes, ``%uXXXX`` (IIS), ``&#NN;``, ``&#xHH;``, its entity names, ``\\uXXXX``
    or ``\\"`` (JSON), ``+`` for a space. ASCII letters and digits are only themselves: no
    encoder escapes them."""
    if char.isascii() and char.isalnum():
        return char
    code = ord(char)
    utf8 = char.encode("utf-8", "surrogatepass")
    utf16 = char.encode("utf-16-be", "surrogatepass")
    units = [int.from_bytes(utf16[i : i + 2]) for i in range(0, len(utf16), 2)]
    forms = [
        re.escape(char),
        "".join(f"%{_hex(byte)}" for byte in utf8),
        "".join(f"%u{_hex(unit, 4)}" for unit in units),
        f"&#0*{code};",
        f"&#[xX]0*{_hex(code, 1)};",
        *map(re.escape, _entities().get(char, ())),
        "".join(rf"\\u{_hex(unit, 4)}" for unit in units),
    ]
    if char in '"\\/':
        forms.append(re.escape("\\" + char))
    if char == " ":
        forms.append(r"\+")
    return f"(?:{'|'.join(forms)})"


def spelling(value: str) -> str:
    r"""A regular expression for ``value`` however a server's encoder spells it, each
    character its own way (a URL's or a form's percent-encoding, hex in either case, with or
    without ``!*'()`` escaped; HTML or XML entities, named or numbered; JSON escapes), mixed.

    >>> echoes = ["Xk9%23pQ2!vR", "Xk9%23pQ2%21vR", "Xk9&#35;pQ2&excl;vR", "Xk9\\u0023pQ2!vR"]
    >>> [bool(re.fullmatch(spelling("Xk9#pQ2!vR"), echo)) for echo in echoes]
    [True, True, True, True]
    >>> echoes = ["p%3cw'd+1", "p&lt;w&#39;d%201", "P<w'd 1", "p<w'd 1 "]
    >>> [bool(re.fullmatch(spelling("p<w'd 1"), echo)) for echo in echoes]
    [True, True, False, False]
    """
    return "".join(map(_character, value))


def _longest_first(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(values, key=len, reverse=True))


class Secrets:
    """The exact secret values one request carries, to scrub from what a server sends back,
    however it spells them (:func:`spelling`).

    Never shown: the repr names how many there are, not what they are.

    >>> Secrets(["s3cr3t", "E032A1"]).scrub("echo: pwd s3cr3t, e032a1, E032A1")
    'echo: pwd ***, e032a1, ***'
    >>> Secrets(["Xk9#pQ2<"]).scrub("A[Xk9%23pQ2%3C] B[Xk9%23pQ2&lt;] C[xk9%23pq2%3c]")
    'A[***] B[***] C[xk9%23pq2%3c]'
    """

    __slots__ = ("_pattern", "_values")

    def __init__(self, values: Iterable[str]) -> None:
        # Longest first: a password inside its own MD5 form (or the reverse) goes whole.
        self._values = _longest_first({v for v in values if v})
        self._pattern: re.Pattern[str] | None = None  # every spelling, once one may show

    def scrub(self, text: str) -> str:
        """``text`` with every secret value, and every ``pwd=`` value, replaced by ``***``."""
        if self._values and _ENCODED.search(text):  # spelt otherwise, maybe (made once)
            if self._pattern is None:
                self._pattern = re.compile("|".join(map(spelling, self._values)))
            text = self._pattern.sub("***", text)
        else:
            for value in self._values:
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
