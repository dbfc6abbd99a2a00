"""Requests carries each encoded request; what happened comes back as a wire exchange.

Every exception requests raises becomes a :class:`~mandao._core.wire.Broken` here, by the
phase it proves: before any byte of the request left (``connect``), or after (``sent``);
so does anything else raised once the request is handed to requests (a last resort: the
request may have left). Redirects are never followed: a 3xx is an answer, and the wire
table says what it means. The reply streams in: its body is capped and decompressed by
:class:`~.body.Body`, and the whole reply must arrive within the read timeout
(:mod:`.bounded`), cut to what is left of the call's deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import time
from collections.abc import Callable

import requests
import urllib3.exceptions

from .._config import ReplyLimits, Timeouts
from .._core.wire import Broken, Exchange
from .._credentials import Credentials
from .._redact import Secrets, redact_exception, scrubbing
from . import bounded, codec
from .body import ACCEPT_ENCODING, Body, BodyError
from .failures import after_reading, after_sending, unsent
from .wsdl import Built

__all__ = ["SyncTransport", "broken"]

#: What reading a reply's body can raise besides requests' own exceptions: urllib3's (the
#: body is read through it directly, so they come untranslated), http.client's, sockets'.
_READ_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError, ValueError)

_CHUNK = 64 * 1024


def broken(exc: BaseException, hidden: Secrets | None = None) -> Broken:
    """The exchange ``exc`` ended (its cause scrubbed of ``hidden`` and of any pwd=)."""
    hidden = hidden or Secrets(())
    reason = unsent(exc) if isinstance(exc, requests.RequestException) else None
    if reason is not None:
        return Broken("connect", hidden.scrub(reason))
    said = after_sending(exc) if isinstance(exc, requests.RequestException) else after_reading(exc)
    return Broken("sent", hidden.scrub(said), redact_exception(exc, hidden))


class SyncTransport:
    """Carries built requests with one pooled ``requests.Session``.

    Args:
        timeouts: the connect and read timeouts of every attempt.
        session: the session to send with.
        limits: the cap of each operation's replies (:class:`~mandao._config.ReplyLimits`).
        credentials: the client's credentials as they are now: both forms of its password
            are scrubbed from what any server sends back.
    """

    def __init__(
        self,
        timeouts: Timeouts,
        session: requests.Session,
        limits: ReplyLimits | None = None,
        credentials: Callable[[], Credentials] | None = None,
    ) -> None:
        self.timeouts = timeouts
        self.session = session
        self.limits = limits or ReplyLimits()
        self._credentials = credentials

    def secrets(self, built: Built) -> Secrets:
        """What ``built`` carries that no text from a server may show."""
        return codec.secrets(built, None if self._credentials is None else self._credentials())

    def exchange(self, built: Built, host: str, *, budget: float | None = None) -> Exchange:
        """Send ``built`` to the service URL ``host``; what happened on the wire.

        ``budget``: seconds left before the call's deadline; the attempt's timeouts are cut
        to it.
        """
        request = codec.encode(built, host)
        hidden = self.secrets(built)
        connect, read, until = self.timeouts.connect, self.timeouts.read, None
        if budget is not None:
            connect, read = min(connect, budget), min(read, budget)
            until = time.monotonic() + budget
        with scrubbing(hidden), bounded.reading(read, until):
            try:
                response = self.session.request(
                    request.method,
                    request.url,
                    headers={"Accept-Encoding": ACCEPT_ENCODING, **request.headers},
                    data=request.body or None,
                    timeout=(connect, read),
                    allow_redirects=False,
                    stream=True,
                    hooks=bounded.HOOKS,
                )
            except Exception as exc:  # requests' own, or anything else: it may have left
                return broken(exc, hidden)
            try:
                bounded.after_headers(response, read, until)
                return self._read(built, response, hidden)
            except Exception as exc:
                _close(response)
                return broken(exc, hidden)

    def _read(self, built: Built, response: requests.Response, hidden: Secrets) -> Exchange:
        """The reply whose headers are in: its body streamed in, capped, decompressed."""
        name = built.operation.name
        try:
            body = Body(self.limits.of(name), response.headers.get("Content-Encoding"), name)
            for chunk in response.raw.stream(_CHUNK, decode_content=False):
                body.feed(chunk)
            data = body.finish()
        except BodyError as exc:
            _close(response)  # not read to its end: the connection is not reused
            return codec.unreadable(response.status_code, str(exc))
        except _READ_ERRORS as exc:
            _close(response)
            return broken(exc, hidden)
        # Read to its end: urllib3 has put the connection back in the pool already.
        _close(response)
        return codec.response(built, response.status_code, data, hidden)


def _close(response: requests.Response) -> None:
    """Close ``response``; failing to changes nothing of what the reply said."""
    with contextlib.suppress(Exception):
        response.close()
