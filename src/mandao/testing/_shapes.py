"""The bytes of every answer, as an ASP.NET ``.asmx`` runtime writes them.

Success replies (one-line SOAP envelopes, the ``<string>`` document of HTTP GET/POST, an
indented ``ArrayOfMOBody`` document, plain ``.ashx`` text) and the runtime's errors: a
``soap:Fault`` for an unknown SOAPAction or an unreadable envelope, a plain-text HTTP 500
with a .NET stack trace for an HTTP GET/POST it cannot bind, an IIS-style 404.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from ._calls import (
    HTML_UTF8,
    PLAIN_UTF8,
    SOAP11_NS,
    SOAP12_NS,
    SOAP12_UTF8,
    XML_UTF8,
    Call,
    Immediate,
    MOBody,
    Protocol,
    Result,
)
from ._services import ServiceSpec

__all__ = [
    "bad_scalar",
    "help_page",
    "not_found",
    "plain_500",
    "render_result",
    "soap_fault",
    "unknown_action",
    "unreadable",
]

_XSI_XSD = (
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
)
_XML_DECL = '<?xml version="1.0" encoding="utf-8"?>'
_NET_TYPES = {"int": ("System.Int32", "an Int32"), "long": ("System.Int64", "an Int64")}
_FORMAT = "System.FormatException: Input string was not in a correct format."


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


def unknown_action(version: Protocol, action: str) -> Immediate:
    """The fault for a SOAPAction (SOAP 1.2: action) the service does not know."""
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


def unreadable(version: Protocol, inner: str) -> Immediate:
    """The fault for an envelope the runtime could not read (``inner``: the cause)."""
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


def bad_scalar(protocol: Protocol, kind: str, value: str, *, overflow: bool) -> Immediate:
    """What the runtime answers when a typed parameter's text is not a number of ``kind``.

    SOAP: the XmlSerializer cannot read the envelope (a ``soap:Client`` fault). HTTP
    GET/POST: ``ScalarFormatter`` wraps the conversion's error in an ArgumentException.
    """
    net, article = _NET_TYPES[kind]
    inner = (
        f"System.OverflowException: Value was either too large or too small for {article}."
        if overflow
        else _FORMAT
    )
    if protocol in ("soap11", "soap12"):
        return unreadable(protocol, inner)
    reader = "UrlParameterReader" if protocol == "http-get" else "HtmlFormParameterReader"
    return plain_500(
        f"System.ArgumentException: Cannot convert {value} to {net}.\r\n"
        f"Parameter name: type ---> {inner}",
        (
            "System.Web.Services.Protocols.ScalarFormatter.FromString(String value, Type type)",
            "--- End of inner exception stack trace ---",
            "System.Web.Services.Protocols.ScalarFormatter.FromString(String value, Type type)",
            "System.Web.Services.Protocols.ValueCollectionParameterReader.Read("
            "NameValueCollection collection)",
            f"System.Web.Services.Protocols.{reader}.Read(HttpRequest request)",
            "System.Web.Services.Protocols.HttpServerProtocol.ReadParameters()",
            "System.Web.Services.Protocols.WebServiceHandler.CoreProcessRequest()",
        ),
    )


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


def _rows(value: Result) -> tuple[MOBody, ...]:
    # A code (a failure, or a fault's forced code) is one MOBody carrying it as total_num.
    return (MOBody(value),) if isinstance(value, str) else value


def _mo_bodies(rows: tuple[MOBody, ...], indent: str, newline: str) -> str:
    """The MOBody elements; with ``indent`` each child on a line of its own (XmlSerializer)."""
    nl, step = (newline, indent) if indent else ("", "")
    out = []
    for row in rows:
        children = "".join(
            f"{nl}{step * 2}<{name}>{escape(value)}</{name}>" for name, value in row.fields()
        )
        out.append(f"{nl}{step}<MOBody>{children}{nl}{step}</MOBody>")
    return "".join(out)


def render_result(
    call: Call, service: ServiceSpec, value: Result, *, http_newline: str = "\r\n"
) -> Immediate:
    """The success reply carrying ``value`` in the shape of ``call``'s protocol."""
    structured = call.op.result == "ArrayOfMOBody"
    if call.protocol == "ashx":
        return Immediate(200, PLAIN_UTF8, str(value).encode("utf-8"))
    if call.protocol in ("http-get", "http-post"):
        if structured:
            # XmlSerializer indents a complex return value, two spaces a level.
            rows = _mo_bodies(_rows(value), "  ", http_newline)
            body = (
                f"{_XML_DECL}{http_newline}<ArrayOfMOBody{_XSI_XSD} "
                f'xmlns="{service.namespace}">{rows}{http_newline}</ArrayOfMOBody>'
            )
        else:
            text = escape(value if isinstance(value, str) else "")
            body = f'{_XML_DECL}{http_newline}<string xmlns="{service.namespace}">{text}</string>'
        return Immediate(200, XML_UTF8, body.encode("utf-8"))
    env_ns, ctype = (SOAP11_NS, XML_UTF8) if call.protocol == "soap11" else (SOAP12_NS, SOAP12_UTF8)
    op = call.op.name
    if structured:
        inner = _mo_bodies(_rows(value), "", "")
    else:
        inner = escape(value if isinstance(value, str) else "")
    body = (
        f'{_XML_DECL}<soap:Envelope xmlns:soap="{env_ns}"{_XSI_XSD}><soap:Body>'
        f'<{op}Response xmlns="{service.namespace}"><{op}Result>{inner}</{op}Result></{op}Response>'
        "</soap:Body></soap:Envelope>"
    )
    return Immediate(200, ctype, body.encode("utf-8"))
