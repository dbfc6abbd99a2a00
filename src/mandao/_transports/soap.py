"""SOAP 1.1 and 1.2: a built envelope addressed to a host, and the reply read back.

A reply is ``Envelope/Body/{op}Response/{op}Result`` (the ASMX convention, in the service's
namespace) or ``Envelope/Body/Fault``; anything else is malformed: a Body of several
elements, a Response holding anything but one Result, a Result holding more than text (an
operation in :data:`~.structured.STRUCTURED` excepted: its Result holds its structure).
"""

from __future__ import annotations

from .._core.wire import Fault, Malformed, Result
from .._operations import Operation
from .._redact import Secrets
from . import xml
from .structured import STRUCTURED
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


def _text(element: xml.Element | None) -> str:
    """All the text of ``element`` (a fault's code or reason), whatever it holds."""
    if element is None:
        return ""
    return " ".join("".join(t for t in element.itertext() if isinstance(t, str)).split())


def _fault(fault: xml.Element, envelope: str, hidden: Secrets) -> Fault:
    # A SOAP 1.2 subcode, a reason in several languages, markup in a fault string: only
    # their text is read, never interpreted (a malformed subcode is just text here).
    if envelope == _ENVELOPES["soap11"]:
        code, message = _text(fault.find("faultcode")), _text(fault.find("faultstring"))
    else:
        code = _text(fault.find(f"{{{envelope}}}Code/{{{envelope}}}Value"))
        message = _text(fault.find(f"{{{envelope}}}Reason/{{{envelope}}}Text"))
    # A fault string may echo the request, pwd included.
    return Fault(hidden.scrub(code[:200]), hidden.scrub(message[:400]))


def _elements(parent: xml.Element) -> list[xml.Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def parse(
    op: Operation, protocol: str, body: bytes, hidden: Secrets | None = None
) -> Result | Fault | Malformed:
    """What ``body`` holds: the operation's result, a fault, or neither; a fault's texts
    scrubbed of ``hidden``."""
    envelope = _ENVELOPES[protocol]
    try:
        root = xml.parse(body)
    except (xml.XMLError, ValueError) as exc:
        return Malformed(f"the reply is not a SOAP envelope ({str(exc)[:120]})")
    soap_body = root.find(f"{{{envelope}}}Body") if root.tag == f"{{{envelope}}}Envelope" else None
    replies = _elements(soap_body) if soap_body is not None else []
    if len(replies) != 1:
        return Malformed("the reply is not a SOAP envelope with one element in its body")
    reply = replies[0]
    if reply.tag == f"{{{envelope}}}Fault":
        return _fault(reply, envelope, hidden or Secrets(()))
    namespace = op.service.namespace
    if reply.tag != f"{{{namespace}}}{op.name}Response":
        return Malformed(f"the reply's body holds {reply.tag!r}, not {op.name}Response")
    results = _elements(reply)
    if not results:
        return Result("")
    result = results[0]
    if len(results) > 1 or result.tag != f"{{{namespace}}}{op.name}Result":
        return Malformed(f"{op.name}Response holds more than its {op.name}Result")
    structure = STRUCTURED.get(op.name)
    if structure is not None:
        return structure.parse(result, namespace)
    text = xml.text_only(result)
    if text is None:
        return Malformed(f"{op.name}Result holds more than text")
    return Result(text)
