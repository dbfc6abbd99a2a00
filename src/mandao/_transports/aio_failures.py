"""What an exception of httpx proves about a request: never sent, or maybe sent.

The one place httpx's exceptions are translated, as a table (:data:`ROWS`, one row per
httpx exception class; ``tests/test_transport_aio.py`` fails when httpx grows a class
without a row). Unlike the sync transport, the async one does not have to read the proof
off the exception alone: httpcore's trace says whether the request's first byte was handed
to the socket. A row's ``unsent`` reason is used only when it was not; anything raised once
it was may have reached the gateway, whatever its class.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from typing import NamedTuple

import httpx

from .._core.wire import Broken
from .._redact import redact

__all__ = ["ERRORS", "ROWS", "Row", "broken", "row_for"]

#: Everything httpx raises for a request that did not get an answer. ``InvalidURL`` is no
#: ``HTTPError``; httpx's stream errors (``StreamConsumed``, ...) are programming errors and
#: propagate, as ``CancelledError`` does.
ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx.InvalidURL)

_RESET = "connection closed or reset after the request was written"


class Row(NamedTuple):
    """What one httpx exception class says.

    Attributes:
        kind: the exception class (matched by the exception's MRO, so the closest row wins).
        unsent: why it proves the request never left, given nothing of it was written;
            None when the class says nothing of the kind (the request may have left).
        sent: what it says of a request that may have reached the gateway; None for the
            generic text (class name and redacted message).
    """

    kind: type[Exception]
    unsent: Callable[[Exception], str] | None
    sent: str | None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it was raised from (httpx wraps httpcore wraps OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _connect_failed(exc: Exception) -> str:
    """httpcore raises ConnectError only while connecting: TCP, or the TLS handshake."""
    for inner in _chain(exc):
        # The certificate check comes first: SSLCertVerificationError is an SSLError too.
        if isinstance(inner, ssl.SSLCertVerificationError):
            return "TLS certificate not accepted"
        if isinstance(inner, ssl.SSLError):
            return "TLS handshake failed"
        if isinstance(inner, ConnectionRefusedError):
            return "connection refused"
        if isinstance(inner, socket.gaierror):
            return "DNS lookup failed"
    return f"could not connect: {redact(str(exc))[:200]}"


def _invalid_url(exc: Exception) -> str:
    return f"invalid URL: {redact(str(exc))}"


def _fixed(text: str) -> Callable[[Exception], str]:
    return lambda exc: text


#: One row per httpx exception class, the abstract ones included (httpx may raise a class
#: it adds later under one of them, and its row still applies).
ROWS: tuple[Row, ...] = (
    Row(httpx.ConnectTimeout, _fixed("connect timeout"), None),
    Row(httpx.PoolTimeout, _fixed("no pooled connection came free in time"), None),
    Row(httpx.ReadTimeout, None, "read timeout after the request was written"),
    Row(httpx.WriteTimeout, None, "write timeout while the request was being written"),
    Row(httpx.TimeoutException, None, None),
    Row(httpx.ConnectError, _connect_failed, None),
    Row(httpx.ReadError, None, _RESET),
    Row(httpx.WriteError, None, _RESET),
    Row(httpx.CloseError, None, _RESET),
    Row(httpx.NetworkError, None, _RESET),
    Row(httpx.RemoteProtocolError, None, _RESET),
    Row(httpx.LocalProtocolError, None, None),
    Row(httpx.ProtocolError, None, None),
    # A proxy that refuses the CONNECT tunnel: the request itself never went through it.
    Row(httpx.ProxyError, lambda exc: f"proxy refused: {redact(str(exc))[:200]}", None),
    Row(httpx.UnsupportedProtocol, _invalid_url, None),
    Row(httpx.TransportError, None, None),
    Row(httpx.DecodingError, None, "the reply's content encoding could not be decoded"),
    # Never raised here (redirects are not followed, statuses not raised): generic rows.
    Row(httpx.TooManyRedirects, None, None),
    Row(httpx.HTTPStatusError, None, None),
    Row(httpx.RequestError, None, None),
    Row(httpx.HTTPError, None, None),
    Row(httpx.InvalidURL, _invalid_url, None),
)

_BY_CLASS = {row.kind: row for row in ROWS}


def row_for(exc: Exception) -> Row | None:
    """The row of ``exc``'s closest class that has one; None for no httpx exception."""
    return next((_BY_CLASS[k] for k in type(exc).__mro__ if k in _BY_CLASS), None)


def _scrub(exc: Exception) -> None:
    """Replace the request ``exc`` keeps by its method and redacted URL, nothing else.

    An httpx exception holds the whole request (an HTTP GET's URL and a body hold ``pwd``);
    ``redact_exception`` cannot rewrite an ``httpx.URL``, so it is done here.
    """
    if not isinstance(exc, httpx.RequestError):
        return
    try:
        request = exc.request
    except RuntimeError:  # raised without a request (httpx's own checks)
        return
    exc.request = httpx.Request(request.method, redact(str(request.url)))


def broken(exc: Exception, *, written: bool) -> Broken:
    """The exchange ``exc`` ended; ``written``: the request's first byte had been handed over."""
    row = row_for(exc)
    if not written and row is not None and row.unsent is not None:
        return Broken("connect", row.unsent(exc))
    _scrub(exc)
    sent = row.sent if row is not None else None
    return Broken("sent", sent or f"{type(exc).__name__}: {redact(str(exc))[:200]}", exc)
