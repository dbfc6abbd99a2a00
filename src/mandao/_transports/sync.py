"""Requests carries each encoded request; what happened comes back as a wire exchange.

Every exception requests raises becomes a :class:`~mandao._core.wire.Broken` here, by the
phase it proves: before any byte of the request left (``connect``), or after (``sent``).
Redirects are never followed: a 3xx is an answer, and the wire table says what it means.
"""

from __future__ import annotations

import requests

from .._config import Timeouts
from .._core.wire import Broken, Exchange
from . import codec
from .failures import after_sending, unsent
from .wsdl import Built

__all__ = ["SyncTransport", "broken"]


def broken(exc: requests.RequestException) -> Broken:
    """The exchange ``exc`` ended (an OutcomeUnknown made of it redacts it as its cause)."""
    reason = unsent(exc)
    if reason is not None:
        return Broken("connect", reason)
    return Broken("sent", after_sending(exc), exc)


class SyncTransport:
    """Carries built requests with one pooled ``requests.Session``."""

    def __init__(self, timeouts: Timeouts, session: requests.Session) -> None:
        self.timeouts = timeouts
        self.session = session

    def exchange(self, built: Built, host: str) -> Exchange:
        """Send ``built`` to the service URL ``host``; what happened on the wire."""
        request = codec.encode(built, host)
        try:
            response = self.session.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                data=request.body or None,
                timeout=(self.timeouts.connect, self.timeouts.read),
                allow_redirects=False,
            )
            return codec.response(built, response.status_code, response.content)
        except requests.RequestException as exc:
            return broken(exc)
