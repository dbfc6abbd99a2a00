"""zeep's own service proxies, for exploring the gateway from a REPL.

These calls go through zeep end to end (its serialising, its reply parsing): they are for
looking around, and return what zeep returns. What zeep and requests raise becomes ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import lxml.etree
import requests
import zeep
import zeep.exceptions

from .._errors import GatewayUnreachable, MandaoError, OutcomeUnknown, ProtocolError
from .._operations import Protocol
from .._redact import redact
from .._wsdl import Service
from .failures import after_sending, unsent
from .wsdl import Wsdl

if TYPE_CHECKING:
    from .._config import Timeouts

__all__ = ["ZEEP_ERRORS", "ZeepTransport", "call_proxy", "service_proxy"]

#: What zeep lets out of a proxy call besides requests' errors: its own, and lxml's.
ZEEP_ERRORS = (zeep.exceptions.Error, lxml.etree.LxmlError)


class ZeepTransport(zeep.Transport):
    """zeep's transport on our session, without its DEBUG logging of whole envelopes
    (they hold ``pwd``)."""

    def __init__(self, session: requests.Session, timeouts: Timeouts) -> None:
        super().__init__(session=session, operation_timeout=(timeouts.connect, timeouts.read))

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> Any:
        return self.session.post(
            address, data=message, headers=headers, timeout=self.operation_timeout
        )

    def get(self, address: str, params: dict[str, str], headers: dict[str, str]) -> Any:
        return self.session.get(
            address, params=params, headers=headers, timeout=self.operation_timeout
        )


def service_proxy(
    wsdl: Wsdl,
    carrier: tuple[requests.Session, Timeouts],
    service: Service,
    protocol: Protocol,
    host: str,
) -> Any:
    """zeep's ``ServiceProxy`` for ``service`` at ``host``, carried by our session."""
    return wsdl.proxy(service, protocol, host, ZeepTransport(*carrier))


def call_proxy(
    method: Callable[..., Any], kwargs: Mapping[str, str], *, host: str, operation: str
) -> Any:
    """Call one of zeep's proxy methods, translating what it raises."""
    where: dict[str, Any] = {"host": host, "operation": operation}
    error: MandaoError
    try:
        return method(**kwargs)
    except requests.RequestException as exc:
        reason = unsent(exc)
        if reason is not None:
            error = GatewayUnreachable(reason, causes=((host, reason),), **where)
        else:
            error = OutcomeUnknown(after_sending(exc), cause=exc, **where)
    except ZEEP_ERRORS as exc:
        error = ProtocolError(f"{type(exc).__name__}: {redact(str(exc))[:200]}", **where)
    # Raised outside the handler: a requests exception's text can hold the URL (and pwd).
    raise error
