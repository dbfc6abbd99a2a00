"""One codec for every protocol: encode a built request for a host, read its reply.

Real sends and dry runs both go through :func:`encode`, so a dry run shows byte for byte
what a send puts on the wire (with ``pwd`` redacted). :func:`response` reads a reply's
bytes into what ``mandao._core.wire`` classifies.
"""

from __future__ import annotations

from .._core.wire import Response
from .._redact import redact
from . import http, soap
from .wire import WireRequest
from .wsdl import Built

__all__ = ["encode", "response"]


def encode(built: Built, host: str) -> WireRequest:
    """``built`` addressed to the service URL ``host``."""
    if built.protocol in ("soap11", "soap12"):
        return soap.encode(built, host)
    return http.encode(built, host)


def response(built: Built, status: int, body: bytes) -> Response:
    """A reply to ``built``: its status and what its body holds."""
    if built.protocol in ("soap11", "soap12"):
        parsed = soap.parse(built.operation, built.protocol, body)
    else:
        parsed = http.parse(built.operation, built.protocol, body)
    if status == 200:
        return Response(status, parsed)
    # The first line names the error page in messages (a 200's result needs none).
    lines = body[:400].decode("utf-8", "replace").strip().splitlines()
    return Response(status, parsed, redact(lines[0]) if lines else "")
