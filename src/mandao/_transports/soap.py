"""SOAP 1.1 and 1.2: a built envelope addressed to a host, and the reply read back.

A reply is ``Envelope/Body/{op}Response/{op}Result`` (the ASMX convention, in the service's
namespace) or ``Envelope/Body/Fault``; anything else is malformed.
"""

from __future__ import annotations

from .._core.wire import Fault, Malformed, Result
from .._operations import Operation
from .._redact import redact
from . import xml
from .wire import WireRequest
from .wsdl import Built

__all__ = ["encode", "parse"]

_ENVELOPES = {
    "soap11": "http://schemas.xmlsoap.org/soap/envelope/",
    "soap12": "http://www.w3.org/2003/05/soap-envelope",
}


def encode(built: Built, host: str) -> WireRequest:
    """The POST of ``built``'s envelope to ``host``."""
    headers = {**built.headers, "Content-Length": str(len(built.body))}
    return WireRequest("POST", host, headers, built.body)


def _fault(fault: xml.Element, envelope: str) -> Fault:
    if envelope == _ENVELOPES["soap11"]:
        code, message = fault.findtext("faultcode"), fault.findtext("faultstring")
    else:
        code = fault.findtext(f"{{{envelope}}}Code/{{{envelope}}}Value")
        message = fault.findtext(f"{{{envelope}}}Reason/{{{envelope}}}Text")
    # A fault string may echo the request, pwd included.
    return Fault(redact((code or "").strip()), redact((message or "").strip()))


def parse(op: Operation, protocol: str, body: bytes) -> Result | Fault | Malformed:
    """What ``body`` holds: the operation's result, a fault, or neither."""
    envelope = _ENVELOPES[protocol]
    try:
        root = xml.parse(body)
    except (xml.XMLError, ValueError) as exc:
        return Malformed(f"the reply is not a SOAP envelope ({str(exc)[:120]})")
    reply = root.find(f"{{{envelope}}}Body/*") if root.tag == f"{{{envelope}}}Envelope" else None
    if reply is None:
        return Malformed("the reply is not a SOAP envelope with a body")
    if reply.tag == f"{{{envelope}}}Fault":
        return _fault(reply, envelope)
    namespace = op.service.namespace
    if reply.tag != f"{{{namespace}}}{op.name}Response":
        return Malformed(f"the reply's body holds {reply.tag!r}, not {op.name}Response")
    result = reply.find(f"{{{namespace}}}{op.name}Result")
    if result is None:
        return Result("")
    text = xml.text_only(result)
    if text is None:
        return Malformed(f"{op.name}Result holds more than text")
    return Result(text)
