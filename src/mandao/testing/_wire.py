"""The five ways a request reaches the gateway, decoded into one ``Call``; and the replies.

Byte shapes are those an ASP.NET ``.asmx`` runtime sends: one-line SOAP envelopes,
``soap:Fault`` for an unknown SOAPAction or an unreadable envelope, a plain-text
``System.InvalidOperationException`` (HTTP 500) for a missing HTTP GET/POST parameter, a
``<string>`` document for HTTP GET/POST, plain text from the ``.ashx`` handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from lxml import etree

from ._http import Request
from ._services import Operation, ServiceSpec
from ._urlcode import parse_pairs

__all__ = [
    "SOAP11_NS",
    "SOAP12_NS",
    "Call",
    "Immediate",
    "Protocol",
    "parse",
    "render_result",
    "soap_fault",
]

Protocol = Literal["soap11", "soap12", "http-get", "http-post", "ashx"]

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
_XSI_XSD = (
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
)
_XML_DECL = '<?xml version="1.0" encoding="utf-8"?>'
XML_UTF8 = "text/xml; charset=utf-8"
SOAP12_UTF8 = "application/soap+xml; charset=utf-8"
PLAIN_UTF8 = "text/plain; charset=utf-8"
HTML_UTF8 = "text/html; charset=utf-8"

# resolve_entities=False and no_network=True: request bodies are untrusted input.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# GB2312 and GBK bodies are read with GB18030, their superset, as .NET's gb2312 decoder
# in practice accepts GBK bytes too.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030"}


@dataclass(frozen=True)
class Call:
    """A decoded operation call: which protocol, which operation, its raw string fields.

    A field is None when the request did not carry it at all (a SOAP element left out).
    """

    protocol: Protocol
    op: Operation  # which operation: ``op.name`` is its exact name, ``op.pwd`` its pwd form
    params: dict[str, str | None]

    def get(self, name: str) -> str:
        """The field's value, with an absent field read as empty (ASMX gives null → "")."""
        return self.params.get(name) or ""


@dataclass(frozen=True)
class Immediate:
    """A reply decided by the wire layer alone (WSDL, help page, fault, 404)."""

    status: int
    content_type: str
    body: bytes


def _charset(request: Request) -> str | None:
    charset = request.content_type_param("charset")
    if charset is None:
        return None
    return _CHARSET_ALIASES.get(charset.lower(), charset.lower())


def _stack(first_line: str, frames: tuple[str, ...]) -> str:
    return first_line + "".join(f"\r\n   at {frame}" for frame in frames)


def soap_fault(version: Protocol, code: str, text: str) -> Immediate:
    """An ASMX ``soap:Fault`` (HTTP 500); code is Client, Server or VersionMismatch."""
    if version == "soap12":
        code12 = {"Client": "Sender", "Server": "Receiver"}.get(code, code)
        body = (
            f'{_XML_DECL}<soap:Envelope xmlns:soap="{SOAP12_NS}"{_XSI_XSD}><soap:Body>'
            f"<soap:Fault><soap:Code><soap:Value>soap:{code12}</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="en">{escape(text)}</soap:Text></soap:Reason>'
            "<soap:Detail /></soap:Fault></soap:Body></soap:Envelope>"
        )
        return Immediate(500, SOAP12_UTF8, body.encode("utf-8"))
    body = (
        f'{_XML_DECL}<soap:Envelope xmlns:soap="{SOAP11_NS}"{_XSI_XSD}><soap:Body>'
        f"<soap:Fault><faultcode>soap:{code}</faultcode><faultstring>{escape(text)}</faultstring>"
        "<detail /></soap:Fault></soap:Body></soap:Envelope>"
    )
    return Immediate(500, XML_UTF8, body.encode("utf-8"))


def _unknown_action(version: Protocol, action: str) -> Immediate:
    header = "SOAPAction" if version == "soap11" else "action"
    text = _stack(
        "System.Web.Services.Protocols.SoapException: Server did not recognize the value of "
        f"HTTP Header {header}: {action}.",
        (
            "System.Web.Services.Protocols.Soap11ServerProtocolHelper.RouteRequest()",
            "System.Web.Services.Protocols.SoapServerProtocol.RouteRequest("
            "SoapServerMessage message)",
            "System.Web.Services.Protocols.SoapServerProtocol.Initialize()",
            "System.Web.Services.Protocols.ServerProtocolFactory.Create(Type type, "
            "HttpContext context, HttpRequest request, HttpResponse response, "
            "Boolean& abortProcessing)",
        ),
    )
    return soap_fault(version, "Client", text)


def _unreadable(version: Protocol, inner: str) -> Immediate:
    text = _stack(
        "System.Web.Services.Protocols.SoapException: Server was unable to read request. ---> "
        f"System.InvalidOperationException: There is an error in XML document (1, 1). ---> {inner}",
        (
            "System.Web.Services.Protocols.SoapServerProtocol.ReadParameters()",
            "System.Web.Services.Protocols.WebServiceHandler.CoreProcessRequest()",
        ),
    )
    return soap_fault(version, "Client", text)


def plain_500(first_line: str, frames: tuple[str, ...] = ()) -> Immediate:
    """The plain-text HTTP 500 ASP.NET sends for an HTTP GET/POST it cannot bind."""
    return Immediate(500, PLAIN_UTF8, _stack(first_line, frames).encode("utf-8"))


def not_found(path: str) -> Immediate:
    """An IIS-style 404 page."""
    body = (
        "<!DOCTYPE html><html><head><title>The resource cannot be found.</title></head>"
        f"<body><h1>Server Error in '/' Application.</h1><h2><i>The resource cannot be found."
        f"</i></h2><b>Requested URL: </b>{escape(path)}</body></html>"
    )
    return Immediate(404, HTML_UTF8, body.encode("utf-8"))


def help_page(service: ServiceSpec) -> Immediate:
    """The service help page ``GET /webservice.asmx`` shows, listing the operations."""
    items = "".join(
        f'<li><a href="webservice.asmx?op={o.name}">{o.name}</a></li>' for o in service.operations
    )
    body = (
        "<html><head><title>WebService Web Service</title></head><body>"
        f"<h1>WebService</h1><p>The following operations are supported.</p><ul>{items}</ul>"
        "</body></html>"
    )
    return Immediate(200, HTML_UTF8, body.encode("utf-8"))


def parse(
    request: Request, service: ServiceSpec, *, route_by_body: bool = True
) -> Call | Immediate | None:
    """Decode ``request`` for ``service``; None means "serve the WSDL"."""
    path = request.path.lower()
    if path == "/webservice.asmx":
        if request.method == "GET":
            if request.query.lower() == "wsdl":
                return None
            return help_page(service)
        if request.method != "POST":
            return plain_500(
                f"System.InvalidOperationException: Request format is invalid: {request.method}."
            )
        ctype = request.content_type
        if ctype == "text/xml":
            return _parse_soap(request, service, "soap11", route_by_body)
        if ctype == "application/soap+xml":
            return _parse_soap(request, service, "soap12", route_by_body)
        return plain_500(
            f"System.InvalidOperationException: Request format is invalid: {ctype}.",
            ("System.Web.Services.Protocols.HttpServerProtocol.ReadParameters()",),
        )
    if path.startswith("/webservice.asmx/"):
        return _parse_http(request, service, request.path[len("/webservice.asmx/") :])
    ashx = service.ashx_operation(path)
    if ashx is not None and request.method in ("GET", "POST"):
        fields = parse_pairs(request.query)
        if request.method == "POST":
            # Request["x"] looks in the query string first, then the form.
            for key, value in parse_pairs(
                _body_text(request), _charset(request) or "utf-8"
            ).items():
                fields.setdefault(key, value)
        # An .ashx handler reads Request["x"]: a missing field is simply empty.
        return Call("ashx", ashx, {name: fields.get(name, "") for name in ashx.params})
    return not_found(request.path)


def _body_text(request: Request) -> str:
    # Form bodies are percent-encoded ASCII; latin-1 keeps any stray byte instead of failing.
    return request.body.decode("latin-1")


def _parse_http(request: Request, service: ServiceSpec, name: str) -> Call | Immediate:
    op = service.operation(name)
    if op is None or request.method not in ("GET", "POST"):
        return plain_500(
            "System.InvalidOperationException: Request format is unrecognized for URL "
            f"unexpectedly ending in '/{name}'.",
            (
                "System.Web.Services.Protocols.WebServiceHandlerFactory.CoreGetHandler(Type type, "
                "HttpContext context, HttpRequest request, HttpResponse response)",
            ),
        )
    if request.method == "GET":
        fields = parse_pairs(request.query)
        protocol: Protocol = "http-get"
        reader = "UrlParameterReader"
    else:
        fields = parse_pairs(_body_text(request), _charset(request) or "utf-8")
        protocol = "http-post"
        reader = "HtmlFormParameterReader"
    for param in op.params:
        if param not in fields:
            return plain_500(
                f"System.InvalidOperationException: Missing parameter: {param}.",
                (
                    "System.Web.Services.Protocols.ValueCollectionParameterReader.Read("
                    "NameValueCollection collection)",
                    f"System.Web.Services.Protocols.{reader}.Read(HttpRequest request)",
                    "System.Web.Services.Protocols.HttpServerProtocol.ReadParameters()",
                    "System.Web.Services.Protocols.WebServiceHandler.CoreProcessRequest()",
                ),
            )
    return Call(protocol, op, {p: fields[p] for p in op.params})


def _parse_soap(
    request: Request, service: ServiceSpec, version: Protocol, route_by_body: bool
) -> Call | Immediate:
    charset = _charset(request)
    try:
        if charset is None:
            root = etree.fromstring(request.body, _PARSER)
        else:
            text = _DECL.sub("", request.body.decode(charset), count=1)
            root = etree.fromstring(text, _PARSER)
    except (etree.XMLSyntaxError, UnicodeDecodeError, LookupError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _unreadable(version, f"System.Xml.XmlException: {first}")
    env_ns = SOAP11_NS if version == "soap11" else SOAP12_NS
    qname = etree.QName(root)
    if qname.localname != "Envelope" or qname.namespace != env_ns:
        if qname.localname == "Envelope" and qname.namespace in (SOAP11_NS, SOAP12_NS):
            return soap_fault(
                version,
                "VersionMismatch",
                "System.Web.Services.Protocols.SoapException: Possible SOAP version mismatch: "
                f"Envelope namespace {qname.namespace} was unexpected. Expecting {env_ns}.",
            )
        return _unreadable(
            version,
            _not_expected(qname),
        )
    body = root.find(f"{{{env_ns}}}Body")
    element = None if body is None else next((c for c in body if isinstance(c.tag, str)), None)
    action = _action(request, version)
    op: Operation | None
    if action:
        op = service.operation_for_action(action)
        if op is None:
            return _unknown_action(version, action)
    elif (
        route_by_body
        and element is not None
        and etree.QName(element).namespace == service.namespace
    ):
        op = service.operation(etree.QName(element).localname)
        if op is None:
            return _unknown_action(version, "")
    else:
        return _unknown_action(version, "")
    if element is None:
        return _unreadable(version, "System.InvalidOperationException: The request body is empty.")
    eq = etree.QName(element)
    if eq.localname != op.name or eq.namespace != service.namespace:
        return _unreadable(
            version,
            _not_expected(eq),
        )
    params: dict[str, str | None] = {}
    for name in op.params:
        child = element.find(f"{{{service.namespace}}}{name}")
        params[name] = None if child is None else (child.text or "")
    return Call(version, op, params)


def _not_expected(name: etree.QName) -> str:
    return (
        f"System.InvalidOperationException: <{name.localname} xmlns='{name.namespace or ''}'> "
        "was not expected."
    )


def _action(request: Request, version: Protocol) -> str:
    if version == "soap11":
        raw = request.headers.get("soapaction", "")
    else:
        raw = request.content_type_param("action") or ""
    # Clients send the action both quoted ("http://entinfo.cn/mdsmssend") and bare.
    return raw.strip().strip('"').strip()


def render_result(
    call: Call, service: ServiceSpec, value: str, *, http_newline: str = "\r\n"
) -> Immediate:
    """The success reply carrying ``value`` in the shape of ``call``'s protocol."""
    text = escape(value)
    if call.protocol == "ashx":
        return Immediate(200, PLAIN_UTF8, value.encode("utf-8"))
    if call.protocol in ("http-get", "http-post"):
        body = f'{_XML_DECL}{http_newline}<string xmlns="{service.namespace}">{text}</string>'
        return Immediate(200, XML_UTF8, body.encode("utf-8"))
    env_ns, ctype = (SOAP11_NS, XML_UTF8) if call.protocol == "soap11" else (SOAP12_NS, SOAP12_UTF8)
    op = call.op.name
    body = (
        f'{_XML_DECL}<soap:Envelope xmlns:soap="{env_ns}"{_XSI_XSD}><soap:Body>'
        f'<{op}Response xmlns="{service.namespace}"><{op}Result>{text}</{op}Result></{op}Response>'
        "</soap:Body></soap:Envelope>"
    )
    return Immediate(200, ctype, body.encode("utf-8"))
