"""What a WSDL declares, and how a live one differs from the cached one.

Read with lxml only (no zeep): operations, their parameters, messages, bindings and
namespaces. A difference *matters* (``breaking``) when a request mandao builds from the
cached WSDL could go wrong against the live service: a changed namespace, an operation,
parameter, message part or binding gone or changed, a changed soapAction or HTTP location.
Additions and changed service addresses are reported as ``info``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Difference", "Summary", "compare", "summarize"]

_NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "s": "http://www.w3.org/2001/XMLSchema",
    "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/",
    "http": "http://schemas.xmlsoap.org/wsdl/http/",
}

Severity = Literal["breaking", "info"]


@dataclass(frozen=True)
class Summary:
    """The parts of a WSDL that decide what goes on the wire."""

    namespace: str
    element_form: str
    operations: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    parameters: dict[str, tuple[tuple[str, str, str, str], ...]] = field(default_factory=dict)
    messages: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    bindings: dict[str, dict[str, str]] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)

    def operation_parameters(self) -> dict[str, tuple[str, ...]]:
        """Operation name → parameter names (from the request element of each operation)."""
        names = sorted({op for ops in self.operations.values() for op in ops})
        return {name: tuple(p[0] for p in self.parameters.get(name, ())) for name in names}


@dataclass(frozen=True)
class Difference:
    """One way the live WSDL differs from the cached one."""

    severity: Severity
    where: str
    cached: Any
    live: Any

    def __str__(self) -> str:
        return f"[{self.severity}] {self.where}: cached {self.cached!r}, live {self.live!r}"


def _local(qname: str | None) -> str:
    return (qname or "").split(":")[-1]


def summarize(data: bytes) -> Summary:
    """Parse a WSDL document; raises ValueError when it is not one."""
    from lxml import etree

    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not XML: {exc}") from None
    if root.tag != f"{{{_NS['wsdl']}}}definitions":
        raise ValueError(f"not a WSDL document (root element {root.tag})")
    schema = root.find("wsdl:types/s:schema", _NS)
    summary = Summary(
        namespace=root.get("targetNamespace", ""),
        element_form=schema.get("elementFormDefault", "") if schema is not None else "",
    )
    if schema is not None:
        for element in schema.findall("s:element", _NS):
            params = element.findall("s:complexType/s:sequence/s:element", _NS)
            summary.parameters[element.get("name", "")] = tuple(
                (p.get("name", ""), p.get("type", ""), p.get("minOccurs", "1"),
                 p.get("maxOccurs", "1"))
                for p in params
            )  # fmt: skip
    for message in root.findall("wsdl:message", _NS):
        summary.messages[message.get("name", "")] = tuple(
            (p.get("name", ""), _local(p.get("element") or p.get("type")))
            for p in message.findall("wsdl:part", _NS)
        )
    for port_type in root.findall("wsdl:portType", _NS):
        ops = summary.operations.setdefault(port_type.get("name", ""), {})
        for op in port_type.findall("wsdl:operation", _NS):
            inp, outp = op.find("wsdl:input", _NS), op.find("wsdl:output", _NS)
            ops[op.get("name", "")] = (
                _local(inp.get("message") if inp is not None else ""),
                _local(outp.get("message") if outp is not None else ""),
            )
    for binding in root.findall("wsdl:binding", _NS):
        details = {"@type": _local(binding.get("type"))}
        for kind in ("soap", "soap12", "http"):
            b = binding.find(f"{kind}:binding", _NS)
            if b is not None:
                details["@binding"] = f"{kind} {b.get('style') or b.get('verb') or ''}".strip()
        for op in binding.findall("wsdl:operation", _NS):
            for kind in ("soap", "soap12", "http"):
                o = op.find(f"{kind}:operation", _NS)
                if o is not None:
                    details[op.get("name", "")] = o.get("soapAction") or o.get("location") or ""
        summary.bindings[binding.get("name", "")] = details
    for port in root.findall("wsdl:service/wsdl:port", _NS):
        for kind in ("soap", "soap12", "http"):
            address = port.find(f"{kind}:address", _NS)
            if address is not None:
                summary.locations[port.get("name", "")] = address.get("location", "")
    return summary


def _compare_maps(
    where: str, cached: dict[str, Any], live: dict[str, Any], out: list[Difference]
) -> None:
    for key in cached:
        if key not in live:
            out.append(Difference("breaking", f"{where} {key}", cached[key], None))
        elif cached[key] != live[key]:
            if isinstance(cached[key], dict) and isinstance(live[key], dict):
                _compare_maps(f"{where} {key}", cached[key], live[key], out)
            else:
                out.append(Difference("breaking", f"{where} {key}", cached[key], live[key]))
    for key in live:
        if key not in cached:
            out.append(Difference("info", f"{where} {key} (added)", None, live[key]))


def compare(cached: Summary, live: Summary) -> list[Difference]:
    """Every difference between ``cached`` and ``live``, breaking ones first."""
    out: list[Difference] = []
    if cached.namespace != live.namespace:
        out.append(Difference("breaking", "targetNamespace", cached.namespace, live.namespace))
    if cached.element_form != live.element_form:
        out.append(
            Difference("breaking", "elementFormDefault", cached.element_form, live.element_form)
        )
    _compare_maps("operation", cached.operations, live.operations, out)
    _compare_maps("parameters of", cached.parameters, live.parameters, out)
    _compare_maps("message", cached.messages, live.messages, out)
    _compare_maps("binding", cached.bindings, live.bindings, out)
    for port, location in live.locations.items():
        if cached.locations.get(port) != location:
            out.append(
                Difference("info", f"address of {port}", cached.locations.get(port), location)
            )
    return sorted(out, key=lambda d: d.severity != "breaking")
