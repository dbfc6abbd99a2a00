"""The only module that imports zeep or requests.

zeep builds and parses every SOAP 1.1, SOAP 1.2, HTTP GET and HTTP POST request from the
cached WSDLs; requests carries them, and the vendor's ``.ashx`` handlers directly. A call
has three phases, and what an exception means depends on the phase it comes from:

* **build** (zeep serialises the request): nothing was sent -> ``ValidationError``.
* **send** (requests): connect failures are provably unsent -> ``GatewayUnreachable``;
  anything after the request was written -> ``OutcomeUnknown``.
* **reply** (zeep parses the answer): the request went out -> ``ProtocolError``.

:func:`translate` is the one place where zeep's and requests' exceptions become ours.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import urlsplit

import lxml.etree
import requests
import urllib3.exceptions
import zeep
import zeep.exceptions
from zeep.wsdl import Document
from zeep.wsdl.utils import etree_to_string

from . import _log  # noqa: F401 - installs log redaction before any request
from ._config import Timeouts
from ._errors import (
    GatewayUnreachable,
    MandaoError,
    OutcomeUnknown,
    ProtocolError,
    ValidationError,
)
from ._operations import BINDINGS, Operation, Protocol
from ._version import __version__
from ._wsdl import Service

if TYPE_CHECKING:
    from requests.sessions import _Settings

__all__ = [
    "UPSTREAM_ERRORS",
    "ZEEP_ERRORS",
    "Built",
    "Session",
    "Transport",
    "call_proxy",
    "document",
    "operation_parameters",
    "translate",
]

Phase = Literal["build", "send", "reply"]


#: Every zeep exception class (and lxml's, which zeep lets through), and what it means
#: once the request has gone out. A test checks no class of ``zeep.exceptions`` is missing.
ZEEP_ERRORS: Mapping[type[BaseException], type[MandaoError]] = {
    zeep.exceptions.Error: ProtocolError,
    zeep.exceptions.Fault: ProtocolError,
    zeep.exceptions.TransportError: ProtocolError,
    zeep.exceptions.XMLSyntaxError: ProtocolError,
    zeep.exceptions.XMLParseError: ProtocolError,
    zeep.exceptions.UnexpectedElementError: ProtocolError,
    zeep.exceptions.WsdlSyntaxError: ProtocolError,
    zeep.exceptions.LookupError: ProtocolError,
    zeep.exceptions.NamespaceError: ProtocolError,
    zeep.exceptions.ValidationError: ProtocolError,
    zeep.exceptions.SignatureVerificationFailed: ProtocolError,
    zeep.exceptions.IncompleteMessage: ProtocolError,
    zeep.exceptions.IncompleteOperation: ProtocolError,
    zeep.exceptions.DTDForbidden: ProtocolError,
    zeep.exceptions.EntitiesForbidden: ProtocolError,
    zeep.exceptions.ExternalReferenceForbidden: ProtocolError,
    # zeep's HTTP bindings let lxml's own parse errors through.
    lxml.etree.LxmlError: ProtocolError,
}


def _unsent(exc: requests.RequestException) -> str | None:
    """Why ``exc`` proves the request never reached the gateway, or None if it may have."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return f"invalid URL: {exc}"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)
        if isinstance(inner, urllib3.exceptions.NameResolutionError):
            return "DNS lookup failed"
        if isinstance(inner, urllib3.exceptions.NewConnectionError):
            return "connection refused"
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.ReadTimeout):
        return "read timeout after the request was written"
    if isinstance(exc, requests.ConnectionError):
        return "connection closed or reset after the request was written"
    if isinstance(exc, zeep.exceptions.Fault):
        return f"SOAP fault {exc.code or ''}: {str(exc.message)[:200]}".replace("  ", " ")
    if isinstance(exc, zeep.exceptions.TransportError):
        body = exc.content if isinstance(exc.content, bytes) else b""
        first = body.decode("utf-8", "replace").strip().splitlines()[:1]
        return f"HTTP {exc.status_code} without a decodable result" + (
            f": {first[0][:160]}" if first else ""
        )
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def translate(
    exc: BaseException,
    phase: Phase,
    *,
    host: str | None,
    operation: str | None,
    rrid: str | None = None,
    recipients: Sequence[str] = (),
) -> MandaoError:
    """Our exception for a zeep or requests exception raised in ``phase`` of a call."""
    where: dict[str, Any] = {"host": host, "operation": operation, "rrid": rrid}
    if phase == "build":
        return ValidationError(f"zeep could not build the request: {exc}", argument="request")
    if isinstance(exc, requests.RequestException):
        cause = _unsent(exc)
        if cause is not None:
            return GatewayUnreachable(cause, causes=((host or "", cause),), **where)
        return OutcomeUnknown(_describe(exc), recipients=recipients, **where)
    target = next((ZEEP_ERRORS[k] for k in type(exc).__mro__ if k in ZEEP_ERRORS), None)
    if target is None:  # not zeep's, not requests': a bug of ours; let it show as one
        raise exc
    return ProtocolError(_describe(exc), recipients=recipients, **where)


#: What zeep and requests raise; nothing of these reaches a caller untranslated.
UPSTREAM_ERRORS = (requests.RequestException, zeep.exceptions.Error, lxml.etree.LxmlError)


def call_proxy(
    method: Callable[..., Any], kwargs: Mapping[str, str], *, host: str, operation: str
) -> Any:
    """Call one of zeep's proxy methods, translating what it raises (REPL exploration)."""
    try:
        return method(**kwargs)
    except UPSTREAM_ERRORS as exc:
        phase: Phase = "send" if isinstance(exc, requests.RequestException) else "reply"
        error = translate(exc, phase, host=host, operation=operation)
        cause = exc
    if not isinstance(cause, requests.RequestException):
        error.__cause__ = cause
    raise error


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


class Built(NamedTuple):
    """A request serialised for one protocol, not yet addressed to a host.

    Built once per call, so moving to another host sends the very same bytes: a SOAP
    envelope is turned into its bytes here, once, not again on each attempt.
    """

    protocol: Protocol
    operation: Operation
    fields: dict[str, str]
    payload: Any  # the SOAP envelope (lxml), or the HTTP binding's parameters
    headers: dict[str, str]
    path: str  # the HTTP binding's "/<op>", appended to the host URL
    body: bytes = b""  # SOAP: the envelope's bytes, as zeep's ``post_xml`` would send them

    def __repr__(self) -> str:  # fields hold pwd: never show them
        return f"<Built {self.operation.name} for {self.protocol}>"


class _ZeepTransport(zeep.Transport):
    """zeep's transport without its DEBUG logging of whole envelopes (they hold ``pwd``)."""

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> Any:
        return self.session.post(
            address, data=message, headers=headers, timeout=self.operation_timeout
        )

    def get(self, address: str, params: dict[str, str], headers: dict[str, str]) -> Any:
        return self.session.get(
            address, params=params, headers=headers, timeout=self.operation_timeout
        )


class Session(requests.Session):
    """A requests session that reads the environment once per scheme and host.

    requests looks up ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``, ``NO_PROXY`` and the CA
    bundle variables (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) on every request, which
    costs 0.1-0.2 ms here, about a tenth of a loopback round trip. This session looks
    them up the first time it talks to a scheme and host (as httpx does when a client is
    made) and reuses the answer; arguments given to a request still win over them.
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], tuple[dict[str, str], str | None]] = {}

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: Any,
    ) -> _Settings:
        if not (self.trust_env and isinstance(url, str)) or (proxies and "no_proxy" in proxies):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        scheme, netloc = urlsplit(url)[:2]
        found = self._environment.get((scheme, netloc))
        if found is None:
            found = self._environment[(scheme, netloc)] = (
                requests.utils.get_environ_proxies(f"{scheme}://{netloc}/"),
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
            )
        env_proxies, bundle = found
        if proxies is not None:
            for key, value in env_proxies.items():
                proxies.setdefault(key, value)
        if bundle and (verify is True or verify is None):
            verify = bundle
        return {
            "proxies": requests.sessions.merge_setting(proxies, self.proxies),
            "stream": requests.sessions.merge_setting(stream, self.stream),
            "verify": requests.sessions.merge_setting(verify, self.verify),
            "cert": requests.sessions.merge_setting(cert, self.cert),
        }


class Transport:
    """Carries one operation to one host over one protocol; returns the raw result string."""

    def __init__(self, timeouts: Timeouts, session: requests.Session | None = None) -> None:
        self.timeouts = timeouts
        self._owns_session = session is None
        self.session = session or Session()
        self.session.headers["User-Agent"] = f"mandao/{__version__} zeep/{zeep.__version__}"
        self._zeep = _ZeepTransport(
            session=self.session, operation_timeout=(timeouts.connect, timeouts.read)
        )
        self._clients: dict[str, zeep.Client] = {}
        self._lock = threading.Lock()

    def zeep_client(self, service: Service) -> zeep.Client:
        """A zeep client on the shared parsed WSDL of ``service``, carried by our session."""
        client = self._clients.get(service.name)
        if client is None:
            with self._lock:
                client = self._clients.get(service.name)
                if client is None:
                    client = zeep.Client(document(service), transport=self._zeep)
                    self._clients[service.name] = client
        return client

    def proxy(self, service: Service, protocol: Protocol, host: str) -> Any:
        """zeep's service proxy for ``protocol``'s binding at ``host``."""
        binding = service.binding(BINDINGS[protocol])
        return self.zeep_client(service).create_service(binding, host)

    def build(self, protocol: Protocol, op: Operation, fields: Mapping[str, str]) -> Built:
        """Serialise ``fields`` for ``op`` over ``protocol``, for any host; nothing is sent.

        Raises ValidationError when zeep cannot build the request.
        """
        if protocol == "ashx":
            return Built(protocol, op, dict(fields), None, {}, "")
        client = self.zeep_client(op.service)
        binding: Any = client.wsdl.bindings[op.service.binding(BINDINGS[protocol])]
        try:
            if protocol in ("soap11", "soap12"):
                # ``_create`` is what zeep's own ``send`` calls: the envelope plus the HTTP
                # headers (SOAPAction, the SOAP 1.2 action), without sending anything.
                envelope, headers = binding._create(op.name, (), fields, client=client)
                body = etree_to_string(envelope)
                return Built(protocol, op, dict(fields), envelope, dict(headers), "", body)
            serialized = binding.get(op.name).create(**fields)
        except UPSTREAM_ERRORS as exc:
            raise translate(exc, "build", host=None, operation=op.name) from exc
        return Built(
            protocol,
            op,
            dict(fields),
            serialized.content,
            dict(serialized.headers),
            serialized.path,
        )

    def send(self, built: Built, host: str, *, recipients: Sequence[str] = ()) -> str:
        """Send a built request to ``host``; the gateway's result string.

        Raises GatewayUnreachable (provably unsent), or OutcomeUnknown/ProtocolError (sent,
        no decodable answer).
        """
        protocol, op, fields = built.protocol, built.operation, built.fields
        phase: Phase = "send"
        error: MandaoError | None = None
        try:
            if protocol == "ashx":
                result: Any = self._ashx(op, host, fields)
            else:
                client = self.zeep_client(op.service)
                binding: Any = client.wsdl.bindings[op.service.binding(BINDINGS[protocol])]
                if protocol in ("soap11", "soap12"):
                    # zeep's ``post_xml`` minus the serialising, done once in ``build``.
                    response = self._zeep.post(host, built.body, built.headers)
                elif protocol == "http-get":
                    response = self._zeep.get(host + built.path, built.payload, built.headers)
                else:
                    response = self._zeep.post(host + built.path, built.payload, built.headers)
                phase = "reply"
                if protocol in ("http-get", "http-post") and response.status_code != 200:
                    # zeep's HTTP bindings turn any non-200 into a Fault holding raw bytes;
                    # the status is what tells the caller what happened.
                    raise zeep.exceptions.TransportError(
                        status_code=response.status_code, content=response.content
                    )
                result = binding.process_reply(client, binding.get(op.name), response)
        except UPSTREAM_ERRORS as exc:
            error = translate(
                exc,
                phase,
                host=host,
                operation=op.name,
                rrid=fields.get("rrid") or None,
                recipients=recipients,
            )
            cause = exc
        if error is not None:
            # Raised outside the handler: a requests exception's text can hold the URL,
            # and an HTTP GET URL holds ``pwd``, so it is neither chained nor kept as context.
            if not isinstance(cause, requests.RequestException):
                error.__cause__ = cause
            raise error
        if not isinstance(result, str) or not result.strip():
            raise ProtocolError(
                f"the reply held no result (got {result!r})",
                host=host,
                operation=op.name,
                rrid=fields.get("rrid") or None,
                recipients=recipients,
            )
        return result.strip()

    def render(self, built: Built, host: str) -> tuple[str, str, dict[str, str], str]:
        """What ``send`` would put on the wire to ``host``: (method, url, headers, body)."""
        if built.protocol == "ashx":
            url = f"{host.rsplit('/', 1)[0]}/{built.operation.name}.ashx"
            return _prepared(requests.Request("POST", url, data=built.fields))
        if built.protocol in ("soap11", "soap12"):
            return "POST", host, dict(built.headers), built.body.decode("utf-8")
        get = built.protocol == "http-get"
        return _prepared(
            requests.Request(
                "GET" if get else "POST",
                host + built.path,
                headers=built.headers,
                params=built.payload if get else None,
                data=None if get else built.payload,
            )
        )

    def _ashx(self, op: Operation, host: str, fields: Mapping[str, str]) -> str:
        url = f"{host.rsplit('/', 1)[0]}/{op.name}.ashx"
        response = self.session.post(
            url, data=dict(fields), timeout=(self.timeouts.connect, self.timeouts.read)
        )
        if response.status_code != 200:
            raise zeep.exceptions.TransportError(
                status_code=response.status_code, content=response.content
            )
        return response.content.decode("utf-8", "replace")

    def close(self) -> None:
        """Close the pooled connections (of a session mandao made; a caller's stays open)."""
        if self._owns_session:
            self.session.close()


def operation_parameters(service: Service) -> dict[str, tuple[str, ...]]:
    """Each operation of ``service``'s SOAP binding and its parameters, read from the WSDL."""
    binding = document(service).bindings[service.binding(BINDINGS["soap11"])]
    return {
        name: tuple(element_name for element_name, _ in op.input.body.type.elements)
        for name, op in binding._operations.items()
    }


def _prepared(request: requests.Request) -> tuple[str, str, dict[str, str], str]:
    prepared = request.prepare()
    content = prepared.body or ""
    return (
        str(prepared.method),
        str(prepared.url),
        dict(prepared.headers),
        content.decode("utf-8") if isinstance(content, bytes) else content,
    )
