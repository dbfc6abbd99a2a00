"""What an exception of requests proves about a request: never sent, or maybe sent.

Also what urllib3 raises while a reply's body streams in (the request was written by
then), and :func:`describe`, which names any exception without trusting its ``__str__``.
"""

from __future__ import annotations

import ssl

import requests
import urllib3.exceptions

from .._redact import redact

__all__ = ["after_reading", "after_sending", "describe", "unsent"]


def describe(exc: BaseException) -> str:
    """``Class: message`` of ``exc``, redacted and short; its class alone if ``str`` fails
    (an exception made without its arguments can fail to print)."""
    try:
        text = str(exc)
    except Exception:
        text = ""
    name = type(exc).__name__
    return f"{name}: {redact(text)[:200]}" if text else name


def unsent(exc: requests.RequestException) -> str | None:
    """Why ``exc`` proves the request never reached the gateway, or None if it may have."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return f"invalid URL: {redact(str(exc))}"
    if isinstance(exc, requests.exceptions.SSLError):
        # urllib3 wraps every TLS error alike, one while reading the reply included: only a
        # certificate refused proves the request never left.
        return "TLS certificate not accepted" if _refused_certificate(exc) else None
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)
        if isinstance(inner, urllib3.exceptions.NameResolutionError):
            return "DNS lookup failed"
        if isinstance(inner, urllib3.exceptions.NewConnectionError):
            return "connection refused"
    return None


def _refused_certificate(exc: BaseException) -> bool:
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        pending += [*current.args, getattr(current, "reason", None)]
        pending += [current.__cause__, current.__context__]
    return False


def after_sending(exc: requests.RequestException) -> str:
    """What ``exc`` says of a request that may have reached the gateway."""
    if isinstance(exc, requests.ReadTimeout):
        return "read timeout after the request was written"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS failure; the request may have been written"
    if isinstance(exc, requests.ConnectionError):
        return "connection closed or reset after the request was written"
    return describe(exc)


def after_reading(exc: BaseException) -> str:
    """What an exception raised while the body streamed in says (the request was written)."""
    if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
        return "read timeout after the request was written"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "TLS failure; the request may have been written"
    if isinstance(exc, (urllib3.exceptions.ProtocolError, ConnectionError)):
        return "connection closed or reset after the request was written"
    return describe(exc)
