"""zeep at the edge: the cached WSDLs parsed once, and requests built through their bindings.

zeep parses the two cached WSDLs (never fetched at run time) and serialises every SOAP 1.1,
SOAP 1.2, HTTP GET and HTTP POST request from them. It sends nothing and parses no reply:
mandao carries the bytes (``sync``) and reads replies with its own parser (``xml``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

import lxml.etree
import zeep
import zeep.exceptions
from zeep.wsdl import Document
from zeep.wsdl.utils import etree_to_string

from .._errors import ValidationError
from .._operations import BINDINGS, Operation, Protocol
from .._wsdl import Service

__all__ = ["Built", "Wsdl", "document", "operation_parameters"]

_document_lock = threading.Lock()
_documents: dict[str, Document] = {}
_SETTINGS = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True)


def document(service: Service) -> Document:
    """The parsed WSDL of ``service``: parsed at most once per process, on first use."""
    with _document_lock:
        doc = _documents.get(service.name)
        if doc is None:
            # A plain zeep transport only reads the local file; the WSDLs import nothing.
            loader: Any = zeep.Transport()  # zeep annotates this parameter wrongly
            doc = Document(str(service.path), loader, settings=_SETTINGS)
            _documents[service.name] = doc
        return doc


def operation_parameters(service: Service) -> dict[str, tuple[str, ...]]:
    """Each operation of ``service``'s SOAP binding and its parameters, read from the WSDL."""
    binding = document(service).bindings[service.binding(BINDINGS["soap11"])]
    return {
        name: tuple(element_name for element_name, _ in op.input.body.type.elements)
        for name, op in binding._operations.items()
    }


class Built(NamedTuple):
    """A request serialised for one protocol, not yet addressed to a host.

    Built once per call, so moving to another host sends the very same bytes.

    Attributes:
        protocol, operation, fields: what was built (``fields`` hold sn and pwd).
        headers: the HTTP headers the binding sets (SOAPAction, Content-Type).
        path: the HTTP bindings' ``/<operation>``, appended to the host URL.
        query: HTTP GET's parameters.
        body: the SOAP envelope's bytes, or HTTP POST's form body.
    """

    protocol: Protocol
    operation: Operation
    fields: Mapping[str, str]
    headers: Mapping[str, str]
    path: str = ""
    query: Mapping[str, str] = {}
    body: bytes = b""

    def __repr__(self) -> str:  # fields hold pwd: never show them
        return f"<Built {self.operation.name} for {self.protocol}>"


#: What zeep (and lxml under it) raise while serialising: a request we could not build.
BUILD_ERRORS = (zeep.exceptions.Error, lxml.etree.LxmlError, TypeError, ValueError)


class Wsdl:
    """zeep clients on the shared parsed WSDLs, one per service, and what they build."""

    def __init__(self) -> None:
        self._clients: dict[str, zeep.Client] = {}
        self._lock = threading.Lock()

    def client(self, service: Service) -> zeep.Client:
        """A zeep client on the parsed WSDL of ``service`` (it never sends anything)."""
        client = self._clients.get(service.name)
        if client is None:
            with self._lock:
                client = self._clients.get(service.name)
                if client is None:
                    client = zeep.Client(document(service))
                    self._clients[service.name] = client
        return client

    def proxy(self, service: Service, protocol: Protocol, host: str, transport: Any) -> Any:
        """zeep's own service proxy for ``protocol``'s binding at ``host`` (REPL exploration)."""
        # zeep parses these replies itself: with the documents' settings, so no DTD either.
        client = zeep.Client(document(service), transport=transport, settings=_SETTINGS)
        return client.create_service(service.binding(BINDINGS[protocol]), host)

    def build(self, protocol: Protocol, op: Operation, fields: Mapping[str, str]) -> Built:
        """Serialise ``fields`` for ``op`` over ``protocol``, for any host; nothing is sent.

        Raises ValidationError when zeep cannot build the request.
        """
        fields = dict(fields)
        if protocol == "ashx":
            return Built(protocol, op, fields, {})
        client = self.client(op.service)
        binding: Any = client.wsdl.bindings[op.service.binding(BINDINGS[protocol])]
        try:
            if protocol in ("soap11", "soap12"):
                # ``_create`` is what zeep's own ``send`` calls: the envelope plus the HTTP
                # headers (SOAPAction, the SOAP 1.2 action), without sending anything.
                envelope, headers = binding._create(op.name, (), fields, client=client)
                return Built(protocol, op, fields, dict(headers), body=etree_to_string(envelope))
            serialized = binding.get(op.name).create(**fields)
        except BUILD_ERRORS as exc:
            raise ValidationError(
                f"zeep could not build the request: {exc}", argument="request"
            ) from None
        content = serialized.content
        if protocol == "http-get":
            return Built(protocol, op, fields, dict(serialized.headers), serialized.path, content)
        body = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        return Built(protocol, op, fields, dict(serialized.headers), serialized.path, body=body)
