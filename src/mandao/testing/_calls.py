"""What a request becomes and what a handler answers: ``Call``, ``Immediate``, ``MOBody``.

Pure values shared by the wire layer (``_wire`` decodes a request into a ``Call``,
``_shapes`` renders the answer) and the handlers (``_handlers``, ``_fetch``), so neither
imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._services import Operation

__all__ = [
    "HTML_UTF8",
    "MO_FIELDS",
    "PLAIN_UTF8",
    "SOAP11_NS",
    "SOAP12_NS",
    "SOAP12_UTF8",
    "XML_UTF8",
    "Call",
    "Immediate",
    "MOBody",
    "Protocol",
    "Result",
]

Protocol = Literal["soap11", "soap12", "http-get", "http-post", "ashx"]

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
XML_UTF8 = "text/xml; charset=utf-8"
SOAP12_UTF8 = "application/soap+xml; charset=utf-8"
PLAIN_UTF8 = "text/plain; charset=utf-8"
HTML_UTF8 = "text/html; charset=utf-8"

#: The children of a ``MOBody``, in the WSDL's order.
MO_FIELDS = ("total_num", "this_num", "recvtel", "sender", "content", "recdate")


@dataclass(frozen=True)
class Call:
    """A decoded operation call: which protocol, which operation, its raw string fields.

    A field is None when the request did not carry it at all (a SOAP element left out).
    A typed parameter (``maxid``) holds its value as decimal digits: ``"0"`` when a SOAP
    request left it out, as .NET's XmlSerializer leaves a missing value type at 0.
    """

    protocol: Protocol
    op: Operation  # which operation: ``op.name`` is its exact name, ``op.pwd`` its pwd form
    params: dict[str, str | None]

    def get(self, name: str) -> str:
        """The field's value, with an absent field read as empty (ASMX gives null → "")."""
        return self.params.get(name) or ""


@dataclass(frozen=True)
class Immediate:
    """A reply decided by the wire layer alone (WSDL, help page, fault, 404), or rendered."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class MOBody:
    """One element of an ``ArrayOfMOBody`` (``RECSMS_UTF8``); None fields are left out.

    ``total_num`` negative (with the rest None) is how that family answers a failure or,
    with ``-1``, that nothing waits.
    """

    total_num: str
    this_num: str | None = None
    recvtel: str | None = None
    sender: str | None = None
    content: str | None = None
    recdate: str | None = None

    def fields(self) -> list[tuple[str, str]]:
        """The (name, value) pairs that are set, in the WSDL's order."""
        values = (
            self.total_num,
            self.this_num,
            self.recvtel,
            self.sender,
            self.content,
            self.recdate,
        )
        return [(n, v) for n, v in zip(MO_FIELDS, values, strict=True) if v is not None]


#: What a handler answers: the result string (an id, a value, a negative code), or the
#: rows of an ``ArrayOfMOBody``.
Result = str | tuple[MOBody, ...]
