"""zeep's own service proxies, for exploring the gateway from a REPL.

These calls go through zeep end to end (its serialising, its reply parsing): they are for
looking around, and return what zeep returns. What zeep and requests raise becomes ours;
so does anything else: raised once a reply was read, a :class:`ProtocolError`; before, a
:class:`ValidationError` (nothing was sent). As on the send path, redirects are not
followed, a reply is capped and must arrive within the read timeout, and a text from the
server is scrubbed of the password before it is shown.
"""

from __future__ import annotations

import contextvars
import http.client
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import lxml.etree
import requests
import urllib3.exceptions
import zeep
import zeep.exceptions

from .._config import ReplyLimits
from .._credentials import md5_form
from .._errors import (
    GatewayUnreachable,
    MandaoError,
    OutcomeUnknown,
    ProtocolError,
    ValidationError,
)
from .._operations import Protocol
from .._redact import Secrets, redact_exception, scrubbing
from .._wsdl import Service
from . import bounded
from .body import ACCEPT_ENCODING, Body, BodyError
from .failures import after_sending, describe, unsent
from .wsdl import Wsdl

if TYPE_CHECKING:
    from .._config import Timeouts

__all__ = ["ZEEP_ERRORS", "ZeepTransport", "call_proxy", "service_proxy"]

#: What zeep lets out of a proxy call besides requests' errors: its own, and lxml's.
ZEEP_ERRORS = (zeep.exceptions.Error, lxml.etree.LxmlError)


#: Whether the proxy call in progress has read a reply (set by :class:`ZeepTransport`).
_ANSWERED: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "mandao_proxy_answered", default=None
)


def _operation_of(address: str, headers: Mapping[str, str]) -> str:
    """The operation a zeep request calls: its SOAPAction's last part (SOAP 1.1 and 1.2),
    else its URL's (the HTTP bindings' ``/<operation>``)."""
    action = headers.get("SOAPAction") or headers.get("Content-Type", "").partition("action=")[2]
    return (action or address.split("?")[0]).strip('"; ').rsplit("/", 1)[-1]


class ZeepTransport(zeep.Transport):
    """zeep's transport on our session, without its DEBUG logging of whole envelopes
    (they hold ``pwd``); redirects not followed, replies capped and read against the
    read timeout."""

    def __init__(self, session: requests.Session, timeouts: Timeouts) -> None:
        super().__init__(session=session, operation_timeout=(timeouts.connect, timeouts.read))
        self._read = timeouts.read
        self._limits = ReplyLimits()

    def _carry(self, method: str, address: str, headers: dict[str, str], **kw: Any) -> Any:
        headers = {"Accept-Encoding": ACCEPT_ENCODING, **headers}
        with bounded.reading(self._read, None):
            response = self.session.request(method, address, headers=headers,
                                            timeout=self.operation_timeout, stream=True,
                                            allow_redirects=False, hooks=bounded.HOOKS,
                                            **kw)  # fmt: skip
            try:
                bounded.after_headers(response, self._read, None)
                name = _operation_of(address, headers)
                body = Body(self._limits.of(name), response.headers.get("Content-Encoding"), name)
                for chunk in response.raw.stream(64 * 1024, decode_content=False):
                    body.feed(chunk)
                response._content = body.finish()  # what zeep reads: decompressed, capped
            except BodyError as exc:
                raise zeep.exceptions.TransportError(str(exc)) from None
            except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
                # Read through urllib3 directly: told as requests tells a broken reply.
                raise requests.ConnectionError(exc) from None
            finally:
                response.close()
        answered = _ANSWERED.get()
        if answered is not None:
            answered[0] = True
        return response

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> Any:
        return self._carry("POST", address, headers, data=message)

    def get(self, address: str, params: dict[str, str], headers: dict[str, str]) -> Any:
        return self._carry("GET", address, headers, params=params)


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
    sn, pwd = kwargs.get("sn", ""), kwargs.get("pwd", "")
    md5 = md5_form(sn, pwd) if pwd else ""
    hidden = Secrets((pwd, pwd.upper(), pwd.lower(), md5, md5.lower()))
    answered = [False]
    token = _ANSWERED.set(answered)
    error: MandaoError
    try:
        with scrubbing(hidden):
            return method(**kwargs)
    except requests.RequestException as exc:
        reason = unsent(exc)
        if reason is not None:
            reason = hidden.scrub(reason)
            error = GatewayUnreachable(reason, causes=((host, reason),), **where)
        else:
            said = hidden.scrub(after_sending(exc))
            error = OutcomeUnknown(said, cause=redact_exception(exc, hidden), **where)
    except ZEEP_ERRORS as exc:
        error = ProtocolError(hidden.scrub(describe(exc)), **where)
    except Exception as exc:  # zeep reading a reply it did not expect, or a bad argument
        if answered[0]:
            error = ProtocolError(f"zeep could not read the reply: {hidden.scrub(describe(exc))}",
                                  **where)  # fmt: skip
        else:
            error = ValidationError(f"zeep could not build the request: {describe(exc)}",
                                    argument="request", **where)  # fmt: skip
    finally:
        _ANSWERED.reset(token)
    # Raised outside the handler: a requests exception's text can hold the URL (and pwd).
    raise error
