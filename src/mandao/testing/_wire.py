"""The five ways a request reaches the gateway, decoded into one ``Call`` (or an answer).

The request shapes an ASP.NET ``.asmx`` runtime reads: SOAP 1.1 and 1.2 envelopes (the
version is the envelope's own namespace, whichever of ``text/xml`` and
``application/soap+xml`` carried it, as the vendor's Java demo posts SOAP 1.2 envelopes as
``text/xml``), HTTP GET query strings, HTTP POST forms, and the ``.ashx`` handlers' fields.
Typed parameters (``maxid``) are converted as .NET would: a SOAP element left out is 0, a
value that is not a number is the runtime's error. The answers' bytes are ``_shapes``.
"""

from __future__ import annotations

import re

from lxml import etree

from ._calls import SOAP11_NS, SOAP12_NS, Call, Immediate, Protocol
from ._http import Request
from ._services import Operation, ServiceSpec
from ._shapes import (
    bad_scalar,
    help_page,
    not_found,
    plain_500,
    soap_fault,
    unknown_action,
    unreadable,
)
from ._urlcode import parse_pairs

__all__ = ["parse"]

# resolve_entities=False and no_network=True: request bodies are untrusted input.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# GB2312 and GBK bodies are read with GB18030, their superset, as .NET's gb2312 decoder
# in practice accepts GBK bytes too.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030"}
_ENVELOPES: dict[str | None, Protocol] = {SOAP11_NS: "soap11", SOAP12_NS: "soap12"}
_SOAP_TYPES: dict[str, Protocol] = {"text/xml": "soap11", "application/soap+xml": "soap12"}
# What Int32.Parse / XmlConvert accept: white space around an optional sign and digits.
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_RANGES = {"int": 2**31, "long": 2**63}


def _charset(request: Request) -> str | None:
    charset = request.content_type_param("charset")
    if charset is None:
        return None
    return _CHARSET_ALIASES.get(charset.lower(), charset.lower())


def _fold(fields: dict[str, str]) -> dict[str, str]:
    """``fields`` with lower-case names: ASP.NET's query and form collections ignore case
    (``maxid`` finds mo2's ``maxID``); names that differ in case alone join with a comma."""
    folded: dict[str, str] = {}
    for key, value in fields.items():
        low = key.lower()
        folded[low] = f"{folded[low]},{value}" if low in folded else value
    return folded


def _scalar(op: Operation, name: str, value: str, protocol: Protocol) -> str | Immediate:
    """A typed parameter's value as plain decimal digits, or the runtime's error."""
    kind = op.param_type(name)
    if kind is None:
        return value
    if not _INTEGER.fullmatch(value):
        return bad_scalar(protocol, kind, value, overflow=False)
    number = int(value)
    if not -_RANGES[kind] <= number < _RANGES[kind]:
        return bad_scalar(protocol, kind, value, overflow=True)
    return str(number)


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
        if ctype in _SOAP_TYPES:
            return _parse_soap(request, service, _SOAP_TYPES[ctype], route_by_body)
        return plain_500(
            f"System.InvalidOperationException: Request format is invalid: {ctype}.",
            ("System.Web.Services.Protocols.HttpServerProtocol.ReadParameters()",),
        )
    if path.startswith("/webservice.asmx/"):
        return _parse_http(request, service, request.path[len("/webservice.asmx/") :])
    ashx = service.ashx_operation(path)
    if ashx is not None and request.method in ("GET", "POST"):
        fields = _fold(parse_pairs(request.query))
        if request.method == "POST":
            # Request["x"] looks in the query string first, then the form.
            form = _fold(parse_pairs(_body_text(request), _charset(request) or "utf-8"))
            for key, value in form.items():
                fields.setdefault(key, value)
        # An .ashx handler reads Request["x"]: a missing field is simply empty.
        return Call("ashx", ashx, {name: fields.get(name.lower(), "") for name in ashx.params})
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
        fields = _fold(parse_pairs(request.query))
        protocol: Protocol = "http-get"
        reader = "UrlParameterReader"
    else:
        fields = _fold(parse_pairs(_body_text(request), _charset(request) or "utf-8"))
        protocol = "http-post"
        reader = "HtmlFormParameterReader"
    for param in op.params:
        if param.lower() not in fields:
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
    params: dict[str, str | None] = {}
    for param in op.params:
        value = _scalar(op, param, fields[param.lower()], protocol)
        if isinstance(value, Immediate):
            return value
        params[param] = value
    return Call(protocol, op, params)


def _parse_soap(
    request: Request, service: ServiceSpec, by_type: Protocol, route_by_body: bool
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
        return unreadable(by_type, f"System.Xml.XmlException: {first}")
    qname = etree.QName(root)
    # The runtime picks the SOAP version from the envelope's namespace, not the media type:
    # the vendor's Java demo posts SOAP 1.2 envelopes as text/xml with a SOAPAction header.
    version = _ENVELOPES.get(qname.namespace)
    if qname.localname != "Envelope" or version is None:
        if qname.localname == "Envelope":
            expected = SOAP11_NS if by_type == "soap11" else SOAP12_NS
            return soap_fault(
                by_type,
                "VersionMismatch",
                "System.Web.Services.Protocols.SoapException: Possible SOAP version mismatch: "
                f"Envelope namespace {qname.namespace} was unexpected. Expecting {expected}.",
            )
        return unreadable(by_type, _not_expected(qname))
    env_ns = qname.namespace
    body = root.find(f"{{{env_ns}}}Body")
    element = None if body is None else next((c for c in body if isinstance(c.tag, str)), None)
    action = _action(request, version)
    op: Operation | None
    if action:
        op = service.operation_for_action(action)
        if op is None:
            return unknown_action(version, action)
    elif (
        route_by_body
        and element is not None
        and etree.QName(element).namespace == service.namespace
    ):
        op = service.operation(etree.QName(element).localname)
        if op is None:
            return unknown_action(version, "")
    else:
        return unknown_action(version, "")
    if element is None:
        return unreadable(version, "System.InvalidOperationException: The request body is empty.")
    eq = etree.QName(element)
    if eq.localname != op.name or eq.namespace != service.namespace:
        return unreadable(version, _not_expected(eq))
    params: dict[str, str | None] = {}
    for name in op.params:
        child = element.find(f"{{{service.namespace}}}{name}")
        if child is None:
            # XmlSerializer leaves a missing value-type parameter at its default, 0.
            params[name] = "0" if op.param_type(name) else None
            continue
        value = _scalar(op, name, child.text or "", version)
        if isinstance(value, Immediate):
            return value
        params[name] = value
    return Call(version, op, params)


def _not_expected(name: etree.QName) -> str:
    return (
        f"System.InvalidOperationException: <{name.localname} xmlns='{name.namespace or ''}'> "
        "was not expected."
    )


def _action(request: Request, version: Protocol) -> str:
    header = request.headers.get("soapaction", "")
    # SOAP 1.2 names its action in Content-Type; a 1.2 envelope posted as text/xml (the
    # vendor's demo) names it in a SOAPAction header instead.
    raw = header if version == "soap11" else request.content_type_param("action") or header
    # Clients send the action both quoted ("http://entinfo.cn/mdsmssend") and bare.
    return raw.strip().strip('"').strip()
